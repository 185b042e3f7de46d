// Runs cross-origin requests in real headless Chromium and reports what happened.
//
// Input (argv[2]): a JSON file, either {pageUrl, scenarios, args} (one page) or {pages: [{pageUrl,
// permissions, scenarios}], args} (several pages, one after the other, in one browser).
// - scenarios: [{id, url, method, headers, credentials, body, api, crossorigin,
//   targetAddressSpace, repeat, allow}]; api is fetch, xhr, font, image, script, module,
//   stylesheet, or iframe (url: a page that reports its own fetch with postMessage).
// - permissions: {"loopback-network": "granted"|"denied", "local-network": ...} set through
//   CDP's Browser.setPermission for the page's origin before it loads, or "grant-all" for
//   Playwright's grantPermissions(['local-network-access']). A permission Chromium refuses to
//   set (a page that is not a secure context) is reported in `permissionErrors`.
// - args: extra Chromium switches (e.g. --ip-address-space-overrides=...).
// Output (stdout): {version, results: [{id, ok, status, error}], console: [text],
// permissionErrors: [text]}.
// Chromium is Debian's (/usr/bin/chromium unless CORSAIR_CHROMIUM says otherwise), driven by
// playwright-core; it is never downloaded. Every request goes to loopback.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(process.env.CORSAIR_NODE_MODULES ? join(process.env.CORSAIR_NODE_MODULES, 'x.js') : import.meta.url);
const { chromium } = require('playwright-core');

const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const pages = input.pages || [{ pageUrl: input.pageUrl, scenarios: input.scenarios }];
const profile = mkdtempSync(join(tmpdir(), 'corsair-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CORSAIR_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ...(input.args || [])],
});
// corsairRun(s), the one scenario runner all three engines share, added to each page.
const scenarioJs = join(dirname(fileURLToPath(import.meta.url)), 'scenario.js');

try {
  const version = context.browser() ? context.browser().version() : null;
  const results = [];
  const consoleMessages = [];
  const permissionErrors = [];
  let first = context.pages()[0];
  let userAgent = null;
  for (const p of pages) {
    const page = first || await context.newPage();
    first = null;
    const origin = new URL(p.pageUrl).origin;
    if (p.permissions === 'grant-all') {
      try { await context.grantPermissions(['local-network-access'], { origin }); } catch (e) { permissionErrors.push(`${origin}: ${e.message}`); }
    } else if (p.permissions) {
      const cdp = await context.newCDPSession(page);
      for (const [name, setting] of Object.entries(p.permissions)) {
        try {
          await cdp.send('Browser.setPermission', { permission: { name }, setting, origin });
        } catch (e) { permissionErrors.push(`${origin} ${name}=${setting}: ${e.message}`); }
      }
    }
    page.on('console', (m) => consoleMessages.push(m.text()));
    await page.goto(p.pageUrl);
    await page.addScriptTag({ path: scenarioJs });
    for (const s of p.scenarios) {
      let r = await page.evaluate((x) => corsairRun(x), s);
      // A repeated scenario runs twice in a row; the second run shows the preflight cache at work.
      if (s.repeat) r = await page.evaluate((x) => corsairRun(x), s);
      results.push({ id: s.id, ...r });
    }
    // Console messages are delivered asynchronously; give the last ones time to arrive.
    await page.waitForTimeout(pages.length > 1 ? 200 : 500);
    userAgent = userAgent || await page.evaluate(() => navigator.userAgent);
    if (pages.length > 1) await page.close();
  }
  process.stdout.write(JSON.stringify({ version: version || userAgent, results, console: consoleMessages, permissionErrors }));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
