/**
 * The explorer's Layers and Embeddings views in Chromium: a channel's filter (the model's weights),
 * its live visualisation (the objective rises), its top patches from a scan index (receptive-field
 * crops), and an embedding of dataset samples equal to Node's with the same nearest neighbours.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelsDir } from '../../cli/common.js';
import { BROWSER_AVAILABLE, cli, withBrowser } from '../../cli/harness.js';
import { readIndex } from '../../cli/scan.js';
import { readCard } from '../../data/card.js';
import { loadDatasetSplits } from '../../data/node.js';
import { normalizeSample } from '../../data/preprocess.js';
import { neighboursOf } from '../../maths/neighbours.js';
import { pca } from '../../maths/pca.js';
import { extractFeatures } from '../../methods/inspect/features.js';
import { convLayers } from '../../methods/inspect/filters.js';
import { readModelFile } from '../../node.js';
import { ConvlensModel } from '../../runtime/model.js';
import { nodeBackend } from '../../runtime/node.js';
import { startExplorer } from '../../serve/explorer.js';
import { openExplorerPage } from './testPage.js';

const dir = mkdtempSync(join(tmpdir(), 'convlens-explorer-views-'));
const indexFile = join(dir, 'scan.json');
let explorer: Awaited<ReturnType<typeof startExplorer>>;
beforeAll(async () => {
  const r = await cli('scan', '-q', '--range', '0:96', '--top', '4', '-o', indexFile);
  if (r.code !== 0) throw new Error(r.err);
  explorer = await startExplorer({ port: 0, data: ['shapes'], index: indexFile });
}, 120_000);
afterAll(async () => {
  await explorer?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Pairwise distances of n 2-D points (invariant to the sign of each principal axis). */
function distances(points: ArrayLike<number>, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++)
      out.push(Math.hypot(points[2 * i] - points[2 * j], points[2 * i + 1] - points[2 * j + 1]));
  return out;
}

describe.skipIf(!BROWSER_AVAILABLE)("the explorer's Layers and Embeddings views in Chromium", () => {
  it("shows a channel's filter, visualises it live, and shows its top patches from the scan index", async () => {
    const model = readModelFile(join(modelsDir(), 'shapes-gap.onnx'));
    const index = readIndex(indexFile);
    const [layer] = Object.keys(index.layers);
    const field = index.layers[layer].field!;
    await withBrowser(async (browser) => {
      const { page, errors } = await openExplorerPage(browser, explorer.url);
      await page.click('text=use sample');
      await page.waitForFunction(() => (window.convlensExplorer?.predictions?.length ?? 0) > 0);
      await page.selectOption('select[aria-label=layer]', layer);
      await page.waitForSelector('figure.tile');
      await page.click('button[aria-label="channel 2"]');
      await page.waitForFunction(() => window.convlensExplorer?.channel?.filter !== undefined);
      const got = await page.evaluate(() => {
        const f = window.convlensExplorer!.channel!.filter!;
        return { dims: f.dims, data: Array.from(f.data), patches: window.convlensExplorer!.channel!.patches };
      });
      // The scanned layer is the last Conv's activation: channel 2's filter is its weights [2].
      const conv = convLayers(model.graph).at(-1)!;
      const weights = model.graph.initializers.get(conv.weight)!;
      const per = conv.dims.slice(1).reduce((a, b) => a * b, 1);
      expect(got.dims).toEqual(conv.dims.slice(1));
      expect(got.data).toEqual(Array.from((weights.data as Float32Array).slice(2 * per, 3 * per)));

      await page.fill('input[aria-label="visualisation steps"]', '24');
      await page.click('text=visualise');
      await page.waitForFunction(() => window.convlensExplorer?.channel?.objective !== undefined, undefined, {
        timeout: 60_000,
      });
      const [start, end] = await page.evaluate(() => window.convlensExplorer!.channel!.objective!);
      expect(end).toBeGreaterThan(start);
      await page.waitForSelector('canvas[aria-label="feature visualisation"]');

      // Top patches: the index's top-k, each a receptive-field crop, all loaded.
      expect(got.patches).toBe(4);
      const images = page.locator('figure[aria-label="top patches"] img');
      expect(await images.count()).toBe(4);
      await page.waitForFunction(() =>
        [...document.querySelectorAll<HTMLImageElement>('figure[aria-label="top patches"] img')].every(
          (i) => i.complete && i.naturalWidth > 0,
        ),
      );
      const png = await fetch(new URL('/api/patch/0/2/0.png', explorer.url));
      const meta = await sharp(Buffer.from(await png.arrayBuffer())).metadata();
      expect([meta.height, meta.width]).toEqual(field.size);
      expect((await fetch(new URL('/api/patch/0/2/4.png', explorer.url))).status).toBe(404);
      expect(errors).toEqual([]);
    });
  }, 180_000);

  it('embeds dataset samples by their features as Node does, and lists the same nearest neighbours', async () => {
    const n = 60;
    const model = readModelFile(join(modelsDir(), 'shapes-gap.onnx'));
    const card = readCard(model)!;
    const layer = card.tensors!.features!;
    // Node's side: the same samples, quantised to bytes as the served PNGs are.
    const test = (await loadDatasetSplits('shapes', { size: [64, 64], channels: 3, resize: 'exact' })).test;
    const m = new ConvlensModel(model, nodeBackend());
    const features = await extractFeatures(
      m,
      {
        length: test.length,
        classes: test.classes,
        load: async (i) => {
          const s = await test.get(i);
          return { ...s, image: s.image.map((v) => Math.round(255 * v) / 255) };
        },
      },
      {
        layer,
        indices: Array.from({ length: n }, (_, i) => i),
        batch: 16,
        inputShape: [3, 64, 64],
        toInput: (s, out, offset) => normalizeSample(s.image, card.preprocessing, out, offset),
      },
    );
    await m.release();
    const points = { data: features.features, n, d: features.d };
    const want = distances(pca(points, 2).projection, n);
    await withBrowser(async (browser) => {
      const { page, errors } = await openExplorerPage(browser, explorer.url, 'embeddings');
      await page.fill('input[aria-label="embedding samples"]', String(n));
      await page.selectOption('select[aria-label="embedding layer"]', layer);
      await page.click('button:text-is("embed")');
      await page.waitForFunction(() => window.convlensExplorer?.embedding?.locate !== undefined, undefined, {
        timeout: 60_000,
      });
      const got = await page.evaluate(() => {
        const e = window.convlensExplorer!.embedding!;
        return { n: e.n, dims: e.dims, points: Array.from(e.points) };
      });
      expect([got.n, got.dims]).toEqual([n, 2]);
      // Features differ between onnxruntime-web and -node in the last float32 bits only; PCA keeps that scale.
      const spread = Math.max(...want);
      const gotDistances = distances(got.points, n);
      const worst = Math.max(...want.map((w, k) => Math.abs(w - gotDistances[k])));
      expect(worst).toBeLessThan(1e-4 * spread);

      // Hover a point for its image, click it for its neighbours (the point farthest from any other, so none covers it).
      const gap = (i: number) =>
        Math.min(
          ...Array.from({ length: n }, (_, j) =>
            j === i
              ? Infinity
              : Math.hypot(
                  got.points[2 * i] - got.points[2 * j],
                  got.points[2 * i + 1] - got.points[2 * j + 1],
                ),
          ),
        );
      const alone = Array.from({ length: n }, (_, i) => i).reduce((a, b) => (gap(b) > gap(a) ? b : a));
      await page.locator('.chart canvas').scrollIntoViewIfNeeded();
      const [x, y] = await page.evaluate((i) => window.convlensExplorer!.embedding!.locate!(i), alone);
      await page.mouse.move(x, y);
      await page.waitForSelector(`img[alt="sample ${alone}"]`);
      await page.mouse.click(x, y);
      await page.waitForFunction(() => window.convlensExplorer?.embedding?.neighbours !== undefined);
      const near = await page.evaluate(() => window.convlensExplorer!.embedding!.neighbours!);
      expect(near.of).toBe(alone);
      expect(near.list).toEqual(neighboursOf(points, [alone], 8)[0]);
      expect(await page.locator('figure[aria-label=neighbours] img').count()).toBe(8);
      expect(errors).toEqual([]);
    });
  }, 180_000);
});
