// Headless Debian Chromium through playwright-core (never a downloaded browser), a fresh profile
// per run, and helpers to draw with the mouse on the drawing canvas.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors and console errors (CSP violations show up here). */
  problems: string[];
  close(): Promise<void>;
}

export async function openBrowser(baseUrl: string): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's (apt-get install -y chromium) or set CHROMIUM_PATH; the tests never download a browser`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'inkling-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: FLAGS,
    headless: true,
    viewport: { width: 1280, height: 860 },
    colorScheme: 'light',
    baseURL: baseUrl,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // Chromium logs every 4xx/5xx and aborted fetch as "Failed to load resource"; the tests
    // cause those on purpose (blank image, too large, network down). Anything else counts.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      problems.push(`console error: ${message.text()}`);
    }
  });
  // A page file that fails to load (a module, a stylesheet) breaks the page without any page
  // error; API answers are checked by the tests themselves.
  page.on('response', (response) => {
    const url = new URL(response.url());
    if (response.status() >= 400 && !url.pathname.startsWith('/api/')) problems.push(`HTTP ${response.status()} for ${url.pathname}`);
  });
  return {
    context,
    page,
    problems,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Open the app and wait until it has mounted; if it does not, say what went wrong. */
export async function openApp(browser: Browser): Promise<void> {
  await browser.page.goto('/');
  try {
    await browser.page.waitForSelector('#app[data-ready="true"]', { timeout: 20_000 });
  } catch {
    throw new Error(`the app did not start: ${browser.problems.join('; ') || 'no error reported'}`);
  }
}

type Pt = readonly [number, number];

/**
 * Draw strokes on the canvas with the mouse; points are fractions of the canvas (0..1). Each
 * segment is split into small mouse moves, like a hand would produce.
 */
export async function drawStrokes(page: Page, strokes: readonly (readonly Pt[])[], stepsPerSegment = 8): Promise<void> {
  const canvas = page.getByTestId('draw-canvas');
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  if (!box) throw new Error('the drawing canvas is not visible');
  const at = ([x, y]: Pt) => [box.x + x * box.width, box.y + y * box.height] as const;
  for (const stroke of strokes) {
    await page.mouse.move(...at(stroke[0]));
    await page.mouse.down();
    for (const point of stroke.slice(1)) await page.mouse.move(...at(point), { steps: stepsPerSegment });
    await page.mouse.up();
  }
}

/** A 7 as two strokes: the top bar, then the diagonal down from its right end. */
export const SEVEN: readonly (readonly Pt[])[] = [
  [[0.28, 0.24], [0.72, 0.24]],
  [[0.72, 0.24], [0.58, 0.5], [0.44, 0.8]],
];

/** A 0 as one closed loop (an upright ellipse). */
export const ZERO: readonly (readonly Pt[])[] = [
  Array.from({ length: 33 }, (_, i) => {
    const a = (i / 32) * Math.PI * 2 - Math.PI / 2;
    return [0.5 + 0.19 * Math.cos(a), 0.5 + 0.29 * Math.sin(a)] as const;
  }),
];
