// The two waiting assertions the browser tests need (playwright-core has no `expect`): they
// poll the page until the condition holds or the timeout passes, then throw with what was seen.
import type { Locator } from 'playwright-core';

const DEFAULT_TIMEOUT_MS = 15_000;

export function expect(locator: Locator, timeoutMs = DEFAULT_TIMEOUT_MS) {
  return {
    async toBeVisible(): Promise<void> {
      await locator.waitFor({ state: 'visible', timeout: timeoutMs });
    },
    async toHaveText(expected: string | RegExp): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      let last: string | null = null;
      while (Date.now() < deadline) {
        last = (await locator.count()) === 1 ? ((await locator.textContent())?.trim() ?? null) : null;
        if (last !== null && (typeof expected === 'string' ? last === expected : expected.test(last))) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      const count = await locator.count();
      throw new Error(`expected ${locator} to have text ${String(expected)}; it had ${count === 1 ? JSON.stringify(last) : `${count} matches`} after ${timeoutMs} ms`);
    },
  };
}
