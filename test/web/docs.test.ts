// /docs: the interactive API reference (Swagger UI from node_modules, over /api/openapi.json)
// renders in headless Chromium under the service's unchanged Content-Security-Policy, with no
// CSP violation and no other page error. With SCREENSHOTS=1 it is saved under test/screenshots/.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { startService, type RunningService } from './support/service.ts';
import { openBrowser, type Browser } from './support/browser.ts';
import { repoRoot } from './support/load-web.ts';

let service: RunningService;
let browser: Browser;

t.before(async () => {
  service = await startService();
  browser = await openBrowser(service.baseUrl);
});
t.teardown(async () => {
  await browser?.close();
  await service?.stop();
});

t.test('/docs renders every route of the OpenAPI document with no CSP violation', async (t) => {
  const page = browser.page;
  // Collected from the page itself: every securitypolicyviolation event (the init script is
  // injected by the browser, outside the page's CSP).
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const res = await page.goto('/docs');
  t.equal(res?.status(), 200, '/docs answers');
  const csp = res?.headers()['content-security-policy'] ?? '';
  t.match(csp, /script-src 'self'/, 'served under the CSP');
  t.notMatch(csp, /unsafe-inline|unsafe-eval/, 'without unsafe-inline or unsafe-eval');
  await page.waitForSelector('#swagger-ui[data-ready="true"]', { timeout: 30_000 });
  await page.waitForSelector('.opblock', { timeout: 10_000 });

  const doc = (await (await fetch(`${service.baseUrl}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  const expected = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
  const shown = await page.$$eval('.opblock-summary', (els) =>
    els.map((el) => `${el.querySelector('.opblock-summary-method')?.textContent?.trim()} ${el.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`),
  );
  t.same([...shown].sort(), [...expected].sort(), `every operation is listed (${expected.length})`);

  // Expanding an operation renders its schema (more of Swagger UI's code paths).
  await page.locator('.opblock-summary', { hasText: '/api/predictions' }).first().click();
  await page.waitForSelector('.opblock-body', { timeout: 10_000 });

  if (process.env.SCREENSHOTS === '1') {
    const dir = path.join(repoRoot, 'test/screenshots');
    fs.mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, 'docs-desktop.png'), fullPage: true });
    t.comment(`saved ${path.join(dir, 'docs-desktop.png')}`);
  }
  const violations = await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);
  t.same(violations, [], 'no CSP violation');
  t.same(browser.problems, [], 'no page error, console error or failed page file');
});

t.test('the CSP check can fail: an inline script on the page is reported', async (t) => {
  const page = browser.page;
  await page.goto('/docs');
  await page.waitForSelector('#swagger-ui[data-ready="true"]', { timeout: 30_000 });
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__ran = true';
    document.head.append(s);
  });
  await page.waitForTimeout(200);
  const violations = await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);
  t.ok(violations.some((v) => v.startsWith('script-src')), `the planted inline script is refused and seen (${violations.join('; ')})`);
  t.notOk(await page.evaluate(() => (window as unknown as { __ran?: boolean }).__ran), 'and did not run');
  browser.problems.length = 0; // the refusal is also a console error, on purpose here
});
