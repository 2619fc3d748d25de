/**
 * Screenshots of the explorer's main views for the docs (docs/images/explorer-*.png): explain,
 * layers (a channel's filter, visualisation and top patches), embeddings (t-SNE with neighbours).
 * Needs the built app (`npm run build:web`) and Debian's chromium.
 * Run: npx tsx scripts/explorer-screenshots.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startExplorer } from '../src/serve/explorer.js';

const dir = mkdtempSync(join(tmpdir(), 'convlens-shots-'));
const index = join(dir, 'scan.json');
execFileSync(process.execPath, ['bin/convlens.js', 'scan', '-q', '--range', '0:400', '-o', index]);
const explorer = await startExplorer({ port: 0, data: ['shapes'], index });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
const page = await browser.newPage({ viewport: { width: 1180, height: 900 } });
await page.addInitScript({ content: 'window.__name = (f) => f;' });
await page.goto(explorer.url);
await page.waitForSelector('section[aria-label=input]');
await page.fill('input[aria-label=sample]', '5');
await page.click('text=use sample');
await page.waitForFunction(() => (window.convlensExplorer?.predictions?.length ?? 0) > 0);
await page.click('text=explain with every method');
await page.waitForFunction(() => Object.keys(window.convlensExplorer!.maps).length >= 13, undefined, {
  timeout: 120_000,
});
await page.locator('section[aria-label=explain]').screenshot({ path: 'docs/images/explorer-explain.png' });

await page.click('button:text-is("show feature maps")');
await page.waitForSelector('figure.tile');
await page.click('button[aria-label="channel 3"]');
await page.fill('input[aria-label="visualisation steps"]', '128');
await page.click('text=visualise');
await page.waitForSelector('canvas[aria-label="feature visualisation"]', { timeout: 120_000 });
await page.waitForFunction(() =>
  [...document.querySelectorAll<HTMLImageElement>('figure[aria-label="top patches"] img')].every(
    (i) => i.complete && i.naturalWidth > 0,
  ),
);
await page.locator('section[aria-label=layers]').screenshot({ path: 'docs/images/explorer-layers.png' });

await page.fill('input[aria-label="embedding samples"]', '400');
await page.selectOption('select[aria-label="embedding method"]', 'tsne');
await page.click('button:text-is("embed")');
await page.waitForFunction(() => window.convlensExplorer?.embedding?.locate !== undefined, undefined, {
  timeout: 120_000,
});
await page.locator('section[aria-label=embeddings]').scrollIntoViewIfNeeded();
const [x, y] = await page.evaluate(() => window.convlensExplorer!.embedding!.locate!(12));
await page.mouse.click(x, y);
await page.waitForFunction(() => window.convlensExplorer?.embedding?.neighbours !== undefined);
await page.waitForTimeout(500);
await page.locator('section[aria-label=embeddings]').screenshot({ path: 'docs/images/explorer-embeddings.png' });

await browser.close();
await explorer.close();
rmSync(dir, { recursive: true, force: true });
console.log('docs/images/explorer-explain.png, explorer-layers.png, explorer-embeddings.png');
