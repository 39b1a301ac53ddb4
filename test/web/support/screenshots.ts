// Saves a screenshot of each view, desktop and phone, light and dark, under test/screenshots/
// (git-ignored). The predictions made for the pictures are deleted afterwards so the history the
// later steps check is unchanged.
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { repoRoot } from './load-web.ts';
import { drawStrokes, SEVEN } from './browser.ts';
import { digitOnePng } from './images.ts';
import { expect } from './expect.ts';

const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 860 },
  { name: 'phone', width: 390, height: 844 },
] as const;
const THEMES = ['light', 'dark'] as const;

export async function saveScreenshots(page: Page): Promise<string[]> {
  const dir = path.join(repoRoot, 'test/screenshots');
  fs.mkdirSync(dir, { recursive: true });
  const created: string[] = [];
  const onResponse = async (response: import('playwright-core').Response) => {
    if (response.request().method() === 'POST' && response.url().endsWith('/api/predictions') && response.status() === 201) {
      const body = await response.json().catch(() => null);
      if (body?.id) created.push(String(body.id));
    }
  };
  page.on('response', onResponse);
  const saved: string[] = [];
  const shot = async (name: string, fullPage = true) => {
    await page.waitForTimeout(150); // let transitions settle
    const file = path.join(dir, `${name}.png`);
    await page.screenshot({ path: file, fullPage });
    saved.push(file);
  };
  const original = page.viewportSize();
  try {
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize({ width: viewport.width, height: viewport.height });
      for (const theme of THEMES) {
        const tag = `${viewport.name}-${theme}`;
        await page.getByRole('radio', { name: theme === 'dark' ? 'Dark theme' : 'Light theme' }).check();
        await page.locator('[data-view=predict]').click();
        await page.getByRole('tab', { name: 'Draw' }).click();
        await page.keyboard.press('c');
        await expect(page.getByTestId('hint')).toBeVisible();
        await shot(`${tag}-1-draw-empty`);
        await drawStrokes(page, SEVEN);
        await expect(page.getByTestId('predicted-digit')).toBeVisible();
        await page.waitForFunction(() => document.querySelector('[data-testid=result]')?.getAttribute('aria-busy') === 'false');
        await shot(`${tag}-2-draw-result`);
        await page.keyboard.press('c');
        await page.getByRole('tab', { name: 'Upload' }).click();
        await page.getByTestId('file-input').setInputFiles({ name: 'one.png', mimeType: 'image/png', buffer: digitOnePng() });
        await expect(page.getByTestId('predicted-digit')).toBeVisible();
        await shot(`${tag}-3-upload`);
        await page.getByRole('tab', { name: 'Link' }).click();
        await shot(`${tag}-4-link`);
        await page.locator('[data-view=history]').click();
        const reset = page.getByRole('button', { name: 'Reset' });
        if (await reset.isEnabled()) await reset.click();
        await page.getByTestId('history-item').first().waitFor();
        await shot(`${tag}-5-history`);
        await page.getByRole('button', { name: 'Clear all' }).click();
        await page.getByRole('dialog').waitFor();
        await shot(`${tag}-6-clear-dialog`, false); // a modal covers the viewport, not the page
        await page.getByRole('button', { name: 'Cancel' }).click();
        await page.locator('[data-view=stats]').click();
        await page.getByTestId('model-card').waitFor();
        await shot(`${tag}-7-stats`);
      }
    }
  } finally {
    page.off('response', onResponse);
    for (const id of created) {
      const res = await page.request.delete(`/api/predictions/${encodeURIComponent(id)}`);
      // 404: already gone (a live prediction replaced by the next one of the same drawing).
      if (!res.ok() && res.status() !== 404) throw new Error(`could not delete screenshot prediction ${id}: HTTP ${res.status()}`);
    }
    if (original) await page.setViewportSize(original);
    await page.getByRole('radio', { name: 'Follow the system theme' }).check();
    await page.locator('[data-view=predict]').click();
    await page.getByRole('tab', { name: 'Draw' }).click();
  }
  return saved;
}
