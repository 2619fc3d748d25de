/**
 * The explorer in Chromium, served by `convlens serve`'s server on a random port: a shapes image
 * through prediction, every attribution method (each map equal to onnxruntime-node's), another
 * target, a layer's feature maps, a card-less model given its size, and a corrupt model.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelsDir } from '../../cli/common.js';
import { BROWSER_AVAILABLE, withBrowser, writePng } from '../../cli/harness.js';
import { readCard } from '../../data/card.js';
import { decodeNpy } from '../../data/npy.js';
import { normalizeSample } from '../../data/preprocess.js';
import { shapesSplits } from '../../data/shapes.js';
import { explain, METHOD_NAMES } from '../../methods/attribution/index.js';
import { Explainer } from '../../methods/attribution/pipeline.js';
import { readModelFile } from '../../node.js';
import { encodeModel } from '../../onnx/model.js';
import { float32 } from '../../onnx/tensor.js';
import { ConvlensModel } from '../../runtime/model.js';
import { nodeBackend } from '../../runtime/node.js';
import { startExplorer } from '../../serve/explorer.js';
import { smallFamilies } from '../../zoo/families.js';
import { decodeState } from './settings.js';
import { openExplorerPage } from './testPage.js';

const dir = mkdtempSync(join(tmpdir(), 'convlens-explorer-'));
let explorer: Awaited<ReturnType<typeof startExplorer>>;
beforeAll(async () => {
  explorer = await startExplorer({ port: 0 });
});
afterAll(async () => {
  await explorer?.close();
  rmSync(dir, { recursive: true, force: true });
});

const METHODS = METHOD_NAMES.filter((m) => m !== 'scouter');
const mapsIn = (page: Page) =>
  page.evaluate(() =>
    Object.fromEntries(
      Object.entries(window.convlensExplorer!.maps).map(([k, m]) => [
        k,
        { dims: m.dims, data: Array.from(m.data) },
      ]),
    ),
  );

/** onnxruntime-node's maps for the PNG's pixels, as the explorer computes them. */
async function nodeMaps(png: string, target: number) {
  const model = readModelFile(join(modelsDir(), 'shapes-gap.onnx'));
  const card = readCard(model)!;
  const { data } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const area = 64 * 64;
  const pixels = new Float32Array(3 * area);
  for (let i = 0; i < area; i++) for (let c = 0; c < 3; c++) pixels[c * area + i] = data[i * 3 + c] / 255;
  const x = new Float32Array(3 * area);
  normalizeSample(pixels, card.preprocessing, x);
  const m = new ConvlensModel(model, nodeBackend());
  const explainer = new Explainer(m, float32(x, [1, 3, 64, 64]), {
    logits: card.tensors?.logits,
    features: card.tensors?.features,
    classes: card.classes,
  });
  const { maps } = await explain(explainer, { methods: METHODS, target: { kind: 'class', index: target } });
  await m.release();
  return Object.fromEntries(maps.map((map) => [map.method, map]));
}

describe.skipIf(!BROWSER_AVAILABLE)('the explorer in Chromium', () => {
  it('predicts, explains with every method as Node does, retargets, and shows feature maps', async () => {
    const sample = await shapesSplits({ test: 8 }).test.get(3);
    const png = join(dir, 'shape.png');
    await writePng(png, sample.image, 64);
    await withBrowser(async (browser) => {
      const { page, errors } = await openExplorerPage(browser, explorer.url);
      await page.setInputFiles('input[aria-label="image file"]', png);
      await page.waitForFunction(() => (window.convlensExplorer?.predictions?.length ?? 0) > 0);
      const top = await page.evaluate(() => window.convlensExplorer!.predictions![0].index);
      expect(top).toBe(sample.label);

      await page.click('text=explain with every method');
      await page.waitForFunction(
        (n) => Object.keys(window.convlensExplorer!.maps).length === n,
        METHODS.length,
        {
          timeout: 60_000,
        },
      );
      expect(await page.locator('figure.map canvas').count()).toBe(METHODS.length);
      const compare = async (target: number) => {
        const want = await nodeMaps(png, target);
        const got = await mapsIn(page);
        const errors: Record<string, number> = {};
        for (const method of METHODS) {
          expect(got[method].dims, method).toEqual(want[method].dims);
          const w = want[method].data;
          const scale = Math.max(...Array.from(w, Math.abs));
          expect(scale, method).toBeGreaterThan(0);
          const diffs = got[method].data.map((v, i) => Math.abs(v - w[i]) / scale);
          // SmoothGrad's noisy copies land some pre-activations within float32 rounding of a ReLU
          // kink, where wasm and native kernels may take different sides: that sample's gradient
          // then differs over the unit's receptive field. Its maps agree on average to 1e-4 of the
          // scale; every other map agrees everywhere.
          errors[method] =
            method === 'smoothgrad' ? diffs.reduce((a, b) => a + b, 0) / diffs.length : Math.max(...diffs);
        }
        expect(Object.entries(errors).filter(([, e]) => !(e < 1e-4))).toEqual([]);
        return got;
      };
      const first = await compare(top);

      // Another class becomes the target; the maps are recomputed for it.
      const other = await page.evaluate(() => window.convlensExplorer!.predictions![1].index);
      await page.click('section[aria-label=prediction] li:nth-child(2) button');
      await page.waitForFunction(
        (n) =>
          Object.keys(window.convlensExplorer!.maps).length === n &&
          window.convlensExplorer!.target !== undefined,
        METHODS.length,
        { timeout: 60_000 },
      );
      expect(await page.evaluate(() => window.convlensExplorer!.target)).toBe(other);
      const second = await compare(other);
      expect(second.gradcam.data).not.toEqual(first.gradcam.data);

      // Another look redraws the overlays without recomputing; a map saves as .npy; the hash holds the state.
      const overlay = () =>
        page.evaluate(() =>
          Array.from(document.querySelectorAll('figure.map canvas')).map((c) =>
            (c as HTMLCanvasElement).toDataURL(),
          ),
        );
      const before = await overlay();
      await page.selectOption('select[aria-label=colormap]', 'grey');
      await expect.poll(async () => (await overlay())[7] !== before[7]).toBe(true);
      const download = page.waitForEvent('download');
      await page.click('figure.map[data-method=gradcam] >> text=.npy');
      const saved = decodeNpy(readFileSync((await (await download).path())!), 'gradcam.npy');
      expect(Array.from(saved.data as Float32Array)).toEqual(second.gradcam.data);
      const state = decodeState(new URL(page.url()).hash);
      expect(state).toMatchObject({
        model: 'shapes-gap',
        target: other,
        settings: { look: { colormap: 'grey' } },
      });

      // The last feature map's channels as a grid of tiles.
      await page.click('text=show feature maps');
      await page.waitForSelector('figure.tile');
      const channels = await page.evaluate(
        () =>
          window.convlensExplorer!.model!.layers.filter((l) => l.shape.length === 4 && l.shape[2] > 1).at(-1)!
            .shape[1],
      );
      expect(await page.locator('figure.tile').count()).toBe(channels);
      expect(errors).toEqual([]);
    });
  }, 180_000);

  it('takes a dropped card-less model once given its size, its labels from a file, its weights from external data, and reports a corrupt one in the page', async () => {
    const zoo = smallFamilies().find((f) => f.name === 'resnet')!.model;
    // A model as exporters write it without convlens: no card, free height and width.
    const input = zoo.graph.inputs[0];
    const free = {
      ...zoo,
      graph: {
        ...zoo.graph,
        inputs: [{ ...input, shape: ['n', 3, 'h', 'w'] }, ...zoo.graph.inputs.slice(1)],
      },
    };
    const onnx = join(dir, 'resnet.onnx');
    writeFileSync(onnx, encodeModel(free).bytes);
    const corrupt = join(dir, 'corrupt.onnx');
    writeFileSync(corrupt, readFileSync(onnx).subarray(0, 100));
    const png = join(dir, 'shape32.png');
    await writePng(png, (await shapesSplits({ test: 2 }).test.get(0)).image, 64);
    await withBrowser(async (browser) => {
      const { page, errors } = await openExplorerPage(browser, explorer.url);
      await page.setInputFiles('input[aria-label="onnx file"]', corrupt);
      await expect
        .poll(() => page.locator('[role=alert]').textContent())
        .toMatch(/"corrupt.onnx" is not an ONNX model/);
      await page.setInputFiles('input[aria-label="onnx file"]', onnx);
      await expect
        .poll(() => page.locator('[role=alert]').textContent())
        .toMatch(/no convlens card.*give its size/);
      await page.fill('input[aria-label="input size"]', '32,32');
      await page.click('text=use size');
      await page.waitForFunction(() => window.convlensExplorer!.model?.name === 'resnet.onnx');
      await page.setInputFiles('input[aria-label="image file"]', png);
      await page.waitForFunction(() => (window.convlensExplorer?.predictions?.length ?? 0) > 0);
      const p = await page.evaluate(() => window.convlensExplorer!.predictions!);
      expect(p.length).toBeGreaterThan(0);
      expect(p.every((x) => x.probability >= 0 && x.probability <= 1)).toBe(true);

      // Its labels from a file: a wrong count is refused (the model stays), the right one names the classes.
      const classes = await page.evaluate(
        (out) => window.convlensExplorer!.model!.layers.find((l) => l.tensor === out)!.shape.at(-1)!,
        free.graph.outputs[0].name,
      );
      const labels = join(dir, 'labels.txt');
      writeFileSync(labels, 'only\ntwo\n');
      await page.setInputFiles('input[aria-label="labels file"]', labels);
      await page.waitForSelector('text=2 labels read');
      await page.click('button:text-is("apply")');
      await expect
        .poll(() => page.locator('[role=alert]').textContent())
        .toContain(`the labels file has 2 labels, but the model has ${classes} classes`);
      const named = join(dir, 'named.txt');
      writeFileSync(named, Array.from({ length: classes }, (_, k) => `kind ${k}`).join('\n'));
      await page.setInputFiles('input[aria-label="labels file"]', named);
      await page.waitForSelector(`text=${classes} labels read`);
      await page.click('button:text-is("apply")');
      await page.waitForFunction(() => window.convlensExplorer!.model!.classes.length > 0);
      await page.setInputFiles('input[aria-label="image file"]', png);
      await page.waitForFunction(() => (window.convlensExplorer?.predictions?.length ?? 0) > 0);
      const relabelled = await page.evaluate(() => window.convlensExplorer!.predictions!);
      expect(relabelled.map((x) => x.label)).toEqual(relabelled.map((x) => `kind ${x.index}`));
      expect(relabelled.map((x) => x.probability)).toEqual(p.map((x) => x.probability));

      // Weights in an external-data file: refused alone, loaded with it.
      const { bytes, external } = encodeModel(free, { externalData: { location: 'resnet-ext.onnx.data' } });
      const ext = join(dir, 'resnet-ext.onnx');
      writeFileSync(ext, bytes);
      writeFileSync(join(dir, 'resnet-ext.onnx.data'), external!);
      await page.setInputFiles('input[aria-label="onnx file"]', ext);
      await expect
        .poll(() => page.locator('[role=alert]').textContent())
        .toMatch(/external file "resnet-ext.onnx.data"; choose it together with resnet-ext.onnx/);
      await page.setInputFiles('input[aria-label="onnx file"]', [ext, join(dir, 'resnet-ext.onnx.data')]);
      await page.fill('input[aria-label="input size"]', '32,32');
      await page.click('text=use size');
      await page.waitForFunction(() => window.convlensExplorer!.model?.name === 'resnet-ext.onnx');
      await page.setInputFiles('input[aria-label="image file"]', png);
      await page.waitForFunction(() => (window.convlensExplorer?.predictions?.length ?? 0) > 0);
      const fromExternal = await page.evaluate(() => window.convlensExplorer!.predictions!);
      expect(fromExternal.map((x) => x.probability)).toEqual(p.map((x) => x.probability));
      expect(errors).toEqual([]);
    });
  }, 120_000);

  it('takes dataset samples from the server and drawings from the canvas', async () => {
    const labels = await Promise.all(
      [0, 1, 2, 3].map(async (i) => (await shapesSplits({ test: 4 }).test.get(i)).label),
    );
    await withBrowser(async (browser) => {
      const { page, errors } = await openExplorerPage(browser, explorer.url);
      for (const i of [1, 3]) {
        await page.fill('input[aria-label=sample]', String(i));
        await page.click('text=use sample');
        await page.waitForFunction(
          (want) => window.convlensExplorer?.predictions?.[0]?.index === want,
          labels[i],
          { timeout: 20_000 },
        );
      }
      await page.selectOption('select[aria-label=model]', 'digits-gap');
      await page.waitForFunction(() => window.convlensExplorer!.model?.name === 'digits-gap');
      const box = (await page.locator('canvas[aria-label=drawing]').boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.8, { steps: 12 });
      await page.mouse.up();
      await page.waitForFunction(() => (window.convlensExplorer?.predictions?.length ?? 0) === 5);
      expect(await page.evaluate(() => window.convlensExplorer!.predictions![0].label)).toMatch(/^\d$/);
      expect(errors).toEqual([]);
    });
  }, 120_000);
});
