// Drives the corsair ui in real headless Chromium (Debian's, through playwright-core; never
// downloaded) and reports what the page showed. The Rust test (crates/corsair/tests/it/browser/ui.rs)
// asserts on the report.
//
// Input (argv[2]): a JSON file {ui, checks: [{name, url, origin, method, headers}], live:
// [{name, url}], explain, explain_local, curl, slow, unreachable, policy, screenshots}.
// Output (stdout): a JSON report. axe-core (npm) audits every tab in both themes at both widths.
import { readFileSync, mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(process.env.CORSAIR_NODE_MODULES ? join(process.env.CORSAIR_NODE_MODULES, 'x.js') : import.meta.url);
const { chromium } = require('playwright-core');

const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
mkdirSync(input.screenshots, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'corsair-ui-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CORSAIR_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const report = { checks: {}, live: {}, errors: [], console_errors: [], dialogs: [], axe: [], shots: [] };
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
// Every serious or critical accessibility violation axe-core finds on the page as it is.
async function axe(page, where) {
  await page.evaluate(axeSource + '\n;0');
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ': ' + (n.failureSummary || '').split('\n').slice(0, 2).join(' ')) }));
  });
  for (const v of found) report.axe.push({ where, ...v });
}
const text = async (page, sel) => (await page.locator(sel).count()) ? (await page.locator(sel).first().innerText()).trim() : null;
try {
  const page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => report.errors.push(String(e)));
  // The page's own errors; the live frames' CORS errors are what Live mode is there to show.
  page.on('console', (m) => {
    const at = new URL(m.location().url || input.ui);
    const own = at.origin === new URL(input.ui).origin && !/^\/live(\.js)?$/.test(at.pathname);
    if (m.type() === 'error' && own) report.console_errors.push(m.text());
  });
  // A method that changes data asks first: the test answers as told, and records the question.
  let answer = 'accept';
  page.on('dialog', async (d) => { report.dialogs.push(d.message()); await (answer === 'accept' ? d.accept() : d.dismiss()); });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(input.ui).origin });
  await page.goto(input.ui);
  await page.waitForSelector('body[data-ready=true]');
  report.favicon = await page.evaluate(async () => (await fetch('/favicon.svg')).status);

  // A request pasted from DevTools fills the form, and sends nothing.
  await page.fill('#c-import', input.curl);
  await page.click('#c-import-go');
  await page.waitForFunction(() => document.querySelector('#c-import-status').textContent.length > 0);
  report.imported = {
    status: await text(page, '#c-import-status'),
    url: await page.inputValue('#c-url'),
    origin: await page.inputValue('#c-origin'),
    method: await page.inputValue('#c-method'),
    headers: await page.inputValue('#c-headers'),
    credentials: await page.isChecked('#c-credentials'),
    sent: await page.locator('#verdict').count(),
  };
  await page.fill('#c-data', '');
  await page.uncheck('#c-credentials');

  // The test's API stands in for a public server (on loopback, Local Network Access would refuse
  // a public page; the LNA check below shows that).
  await page.selectOption('#c-target-space', 'public');

  // While a check runs, its button is disabled and the progress shows.
  await page.fill('#c-url', input.slow);
  await page.fill('#c-origin', 'https://app.example.com');
  await page.fill('#c-method', 'GET');
  await page.fill('#c-headers', '');
  await page.click('#check-form button[type=submit]');
  report.progress = { disabled: await page.isDisabled('#c-go'), shown: await text(page, '#progress') };
  await page.waitForSelector('#verdict');
  report.progress.enabled_after = await page.isEnabled('#c-go');

  // An unreachable server is shown as unreachable, with its net::ERR_ code.
  await page.fill('#c-url', input.unreachable);
  await page.click('#check-form button[type=submit]');
  await page.waitForSelector('#verdict');
  report.unreachable = await text(page, '#verdict');

  // A PUT asks first; cancelled, nothing is sent.
  answer = 'dismiss';
  await page.fill('#c-url', input.checks[0].url);
  await page.fill('#c-method', 'PUT');
  await page.click('#check-form button[type=submit]');
  await page.waitForFunction(() => /Nothing sent/.test(document.querySelector('#check-result').textContent));
  report.cancelled = await text(page, '#check-result');
  answer = 'accept';

  // Check: fill the form, submit, read the verdict, the console message and the fix.
  for (const c of input.checks) {
    await page.fill('#c-url', c.url);
    await page.fill('#c-origin', c.origin);
    await page.fill('#c-method', c.method);
    await page.fill('#c-headers', c.headers.join('\n'));
    await page.selectOption('#c-stack', 'express');
    await page.click('#check-form button[type=submit]');
    await page.waitForSelector('#verdict');
    // What the page says in its own words: code blocks (snippets, curl) left out.
    const shown = await page.evaluate(() => {
      const c = document.querySelector('#check-result').cloneNode(true);
      c.querySelectorAll('pre').forEach((p) => p.remove());
      document.body.append(c);
      const t = c.innerText;
      c.remove();
      return t;
    });
    report.checks[c.name] = {
      // Firefox's own text says "Status code: (null)"; anything else null is a rendering bug.
      stray: (shown.replace(/Status code: \(null\)/g, '').match(/.{0,60}\b(null|undefined|NaN)\b.{0,20}|`/g) || []),
      reasons: await text(page, '#preflight-reasons'),
      sent_note: await text(page, '#sent-note'),
      verdict: await text(page, '#verdict'),
      console: await text(page, '#console'),
      cause: await text(page, '#cause'),
      fix: await text(page, '#fix'),
      exchanges: await page.locator('.exchange').count(),
      cors_highlighted: await page.locator('.exchange .hdr.cors').count(),
      hash: await page.evaluate(() => location.hash),
    };
    await page.screenshot({ path: join(input.screenshots, `check-${c.name}.png`), fullPage: true });
  }

  // Local Network Access: the same API counted from its address (loopback) from a public page.
  await page.fill('#c-url', input.checks[0].url);
  await page.fill('#c-origin', input.checks[0].origin);
  await page.fill('#c-method', 'GET');
  await page.fill('#c-headers', '');
  await page.selectOption('#c-target-space', '');
  await page.click('#check-form button[type=submit]');
  await page.waitForSelector('#verdict');
  report.lna = { verdict: await text(page, '#verdict'), console: await text(page, '#console'), box: await text(page, '#lna-check'), fixes: await page.locator('#lna-fixes li').count(), exchanges: await page.locator('.exchange').count() };
  await page.screenshot({ path: join(input.screenshots, 'check-lna.png'), fullPage: true });
  // Granted, the request goes out and CORS decides.
  await page.selectOption('#c-lna-permission', 'granted');
  await page.click('#check-form button[type=submit]');
  await page.waitForFunction(() => /^Allowed|^Blocked$/.test((document.querySelector('#verdict') || {}).textContent || ''));
  report.lna_granted = { verdict: await text(page, '#verdict'), box: await text(page, '#lna-check') };
  await page.selectOption('#c-lna-permission', '');
  // A destination: the same blocked URL as a web font.
  await page.selectOption('#c-target-space', 'public');
  await page.fill('#c-url', input.checks[1].url);
  await page.selectOption('#c-api', 'font');
  await page.click('#check-form button[type=submit]');
  await page.waitForFunction(() => /font/.test((document.querySelector('#console') || {}).textContent || ''));
  report.font = { verdict: await text(page, '#verdict'), console: await text(page, '#console'), others: await text(page, '#other-browsers') };
  // Every engine: one row each, and which fails first.
  await page.selectOption('#c-browser', 'all');
  await page.click('#check-form button[type=submit]');
  await page.waitForSelector('#engines');
  report.engines = {
    verdict: await text(page, '#verdict'),
    summary: await text(page, '#engines-summary'),
    rows: await page.$$eval('#engines tbody tr', (rows) => rows.map((r) => ({ browser: r.dataset.browser, cells: [...r.cells].map((c) => c.innerText) }))),
    console: await text(page, '#console'),
  };
  await page.screenshot({ path: join(input.screenshots, 'check-every-engine.png'), fullPage: true });
  await page.selectOption('#c-browser', 'chromium');
  await page.selectOption('#c-api', 'fetch');

  // A shared link fills the form (and sends nothing by itself).
  const last = input.checks[input.checks.length - 1];
  const shared = await context.newPage();
  await shared.goto(`${input.ui.replace(/\/$/, '')}/${report.checks[last.name].hash}`);
  await shared.waitForSelector('body[data-ready=true]');
  report.shared = {
    url: await shared.inputValue('#c-url'),
    method: await shared.inputValue('#c-method'),
    headers: await shared.inputValue('#c-headers'),
    sent: await shared.locator('#verdict').count(),
  };
  await shared.close();

  // Keyboard: the tabs move with the arrow keys.
  await page.focus('#tab-check');
  await page.keyboard.press('ArrowRight');
  report.keyboard_tab = await page.evaluate(() => document.activeElement.id + ':' + document.activeElement.getAttribute('aria-selected'));

  // Live: the real fetch from the second origin next to corsair's prediction.
  for (const l of input.live) {
    await page.selectOption('#l-from', l.from || 'second');
    const note = await text(page, '#l-origin-note');
    await page.fill('#l-url', l.url);
    await page.click('#live-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#live-agree'), null, { timeout: 20000 });
    report.live[l.name] = {
      note,
      agree: await text(page, '#live-agree'),
      browser: await text(page, '#live-browser'),
      predicted: await text(page, '#live-predicted'),
    };
    await page.screenshot({ path: join(input.screenshots, `live-${l.name}.png`), fullPage: true });
    await page.evaluate(() => document.querySelector('#live-result').replaceChildren());
  }

  // A relative URL is refused, never fetched from the live page's own origin.
  await page.fill('#l-url', '/api/config');
  await page.click('#live-form button[type=submit]');
  await page.waitForSelector('#live-error');
  report.live_relative = await text(page, '#live-error');

  // Explain.
  await page.click('#tab-explain');
  await page.fill('#e-text', input.explain);
  await page.selectOption('#e-stack', 'nginx');
  await page.click('#explain-form button[type=submit]');
  await page.waitForSelector('.explained');
  report.explain = await text(page, '.explained');
  await page.screenshot({ path: join(input.screenshots, 'explain.png'), fullPage: true });
  // A Local Network Access refusal is explained as such, not as a header problem.
  await page.fill('#e-text', "Access to fetch at 'http://127.0.0.1:8080/x' from origin 'https://app.example.com' has been blocked by CORS policy: Permission was denied for this request to access the `loopback` address space.");
  await page.click('#explain-form button[type=submit]');
  await page.waitForSelector('#lna');
  report.explain_lna = await text(page, '#lna');
  // The bare JavaScript error says where the reason is.
  await page.fill('#e-text', 'TypeError: Failed to fetch');
  await page.click('#explain-form button[type=submit]');
  await page.waitForSelector('#bare');
  report.explain_bare = await text(page, '#bare');
  // An error about a local server: "Check this request" runs it in the Check tab.
  await page.fill('#e-text', input.explain_local);
  await page.click('#explain-form button[type=submit]');
  await page.waitForSelector('.explained .run-check');
  report.explain_fix_stack = await page.locator('.explained #fix').innerText();
  await page.evaluate(() => document.querySelector('#check-result').replaceChildren());
  await page.click('.explained .run-check');
  await page.waitForSelector('#verdict');
  report.explain_run = { tab: await page.getAttribute('#tab-check', 'aria-selected'), url: await page.inputValue('#c-url'), verdict: await text(page, '#verdict') };

  // Policy: a broken file is refused as you type, with line and column; a good one is written
  // for the gen targets.
  await page.click('#tab-policy');
  await page.waitForSelector('#policy-verdict');
  report.policy_sample = await text(page, '#policy-verdict');
  await page.selectOption('#p-target', 'nginx');
  report.policy_nginx = await page.locator('#p-output').innerText();
  await page.fill('#p-text', input.policy);
  await page.waitForFunction(() => document.querySelector('#policy-verdict')?.innerText === 'Refused');
  report.policy_refused = await text(page, '#policy-status');
  await page.screenshot({ path: join(input.screenshots, 'policy.png'), fullPage: true });
  await page.click('#p-copy');
  await page.waitForFunction(() => document.querySelector('#p-copy-status').textContent.length > 0);
  report.policy_copy = await text(page, '#p-copy-status');
  await page.click('#tab-check');
  await page.click('#c-share');
  await page.waitForFunction(() => document.querySelector('#c-share-status').textContent.length > 0);
  report.share_copy = await text(page, '#c-share-status');

  // Dark and light, laptop and phone: every tab, audited by axe-core and photographed.
  const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  report.light_bg = await bg();
  report.phone_overflow = 0;
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    if (scheme === 'dark') report.dark_bg = await bg();
    for (const [width, height, size] of [[1280, 900, 'desktop'], [390, 844, 'phone']]) {
      await page.setViewportSize({ width, height });
      for (const tab of ['check', 'live', 'explain', 'policy']) {
        await page.click(`#tab-${tab}`);
        const where = `${tab}-${scheme}-${size}`;
        await axe(page, where);
        if (size === 'phone') report.phone_overflow = Math.max(report.phone_overflow, await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth));
        await page.screenshot({ path: join(input.screenshots, `tab-${where}.png`), fullPage: true });
        report.shots.push(`tab-${where}`);
      }
    }
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.emulateMedia({ colorScheme: 'light' });

  // Every form control has a label.
  report.unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((e) => !e.labels || e.labels.length === 0).map((e) => e.id));
} catch (e) {
  report.errors.push(String(e && e.stack || e));
} finally {
  await context.close();
}
console.log(JSON.stringify(report));
