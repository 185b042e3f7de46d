// Drives the corsair ui in real headless Chromium (Debian's, through playwright-core; never
// downloaded) and reports what the page showed. The Rust test (crates/corsair/tests/it/browser/ui.rs)
// asserts on the report.
//
// Input (argv[2]): a JSON file {ui, checks: [{name, url, origin, method, headers}], live:
// [{name, url}], explain, policy, screenshots}. Output (stdout): a JSON report.
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
const report = { checks: {}, live: {}, errors: [] };
const text = async (page, sel) => (await page.locator(sel).count()) ? (await page.locator(sel).first().innerText()).trim() : null;
try {
  const page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => report.errors.push(String(e)));
  await page.goto(input.ui);
  await page.waitForSelector('body[data-ready=true]');

  // Check: fill the form, submit, read the verdict, the console message and the fix.
  for (const c of input.checks) {
    await page.fill('#c-url', c.url);
    await page.fill('#c-origin', c.origin);
    await page.fill('#c-method', c.method);
    await page.fill('#c-headers', c.headers.join('\n'));
    await page.selectOption('#c-stack', 'express');
    await page.click('#check-form button[type=submit]');
    await page.waitForSelector('#verdict');
    report.checks[c.name] = {
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
    await page.fill('#l-url', l.url);
    await page.click('#live-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#live-agree'), null, { timeout: 20000 });
    report.live[l.name] = {
      agree: await text(page, '#live-agree'),
      browser: await text(page, '#live-browser'),
      predicted: await text(page, '#live-predicted'),
    };
    await page.screenshot({ path: join(input.screenshots, `live-${l.name}.png`), fullPage: true });
    await page.evaluate(() => document.querySelector('#live-result').replaceChildren());
  }

  // Explain.
  await page.click('#tab-explain');
  await page.fill('#e-text', input.explain);
  await page.click('#explain-form button[type=submit]');
  await page.waitForSelector('.explained');
  report.explain = await text(page, '.explained');
  await page.screenshot({ path: join(input.screenshots, 'explain.png'), fullPage: true });

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

  // Dark and light, laptop and phone.
  const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  report.light_bg = await bg();
  await page.emulateMedia({ colorScheme: 'dark' });
  report.dark_bg = await bg();
  await page.click('#tab-check');
  await page.screenshot({ path: join(input.screenshots, 'check-dark.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  report.phone_overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await page.screenshot({ path: join(input.screenshots, 'check-phone.png'), fullPage: true });

  // Every form control has a label.
  report.unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((e) => !e.labels || e.labels.length === 0).map((e) => e.id));
} catch (e) {
  report.errors.push(String(e && e.stack || e));
} finally {
  await context.close();
}
console.log(JSON.stringify(report));
