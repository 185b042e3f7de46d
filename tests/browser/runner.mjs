// Runs cross-origin requests in real headless Chromium and reports what happened.
//
// Input (argv[2]): a JSON file {pageUrl, scenarios: [{id, url, method, headers, credentials,
// body, api}], args: [extra Chromium switches, e.g. --ip-address-space-overrides=...]}. Output (stdout): {version, results: [{id, ok, status, error}], console: [text]}.
// Chromium is Debian's (/usr/bin/chromium unless CORSAIR_CHROMIUM says otherwise), driven by
// playwright-core; it is never downloaded. Every request goes to loopback.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(process.env.CORSAIR_NODE_MODULES ? join(process.env.CORSAIR_NODE_MODULES, 'x.js') : import.meta.url);
const { chromium } = require('playwright-core');

const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const profile = mkdtempSync(join(tmpdir(), 'corsair-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CORSAIR_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ...(input.args || [])],
});
try {
  const version = context.browser() ? context.browser().version() : null;
  const page = context.pages()[0] || await context.newPage();
  const consoleMessages = [];
  page.on('console', (m) => consoleMessages.push(m.text()));
  await page.goto(input.pageUrl);
  const results = [];
  for (const s of input.scenarios) {
    const run = () => page.evaluate(async (s) => {
      const timeout = new Promise((resolve) => setTimeout(() => resolve({ ok: false, error: 'timeout' }), 10000));
      if (s.api === 'xhr') {
        return Promise.race([timeout, new Promise((resolve) => {
          const x = new XMLHttpRequest();
          x.open(s.method, s.url);
          x.withCredentials = s.credentials;
          for (const [n, v] of s.headers) {
            try { x.setRequestHeader(n, v); } catch (e) { /* forbidden: refused, like fetch drops it */ }
          }
          x.onload = () => resolve({ ok: true, status: x.status });
          x.onerror = () => resolve({ ok: false, error: 'xhr error' });
          x.send(s.body);
        })]);
      }
      const init = { method: s.method, headers: s.headers, credentials: s.credentials ? 'include' : 'same-origin' };
      if (s.body !== null) init.body = s.body;
      return Promise.race([timeout, fetch(s.url, init).then(
        (resp) => ({ ok: true, status: resp.status }),
        (e) => ({ ok: false, error: String(e) }))]);
    }, s);
    let r = await run();
    // A repeated scenario runs twice in a row; the second run shows the preflight cache at work.
    if (s.repeat) r = await run();
    results.push({ id: s.id, ...r });
  }
  // Console messages are delivered asynchronously; give the last ones time to arrive.
  await page.waitForTimeout(500);
  const browserVersion = version || (await page.evaluate(() => navigator.userAgent));
  process.stdout.write(JSON.stringify({ version: browserVersion, results, console: consoleMessages }));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
