import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy } from '../data/npy.js';
import { drawShapes } from '../data/shapes.js';
import { Random } from '../maths/random.js';
import { writeModelFile } from '../node.js';
import { toLayout } from '../onnx/layout.js';
import { float32 } from '../onnx/tensor.js';
import { keras } from '../zoo/families.js';
import { cli, writePng } from './harness.js';

// A Keras-style export (NHWC input, Transpose inside) and its twin with an NCHW input and the
// same weights: every explanation of one is the other's, moved between layouts.
let dir: string;
let image: string;
let nhwcModel: string;
let nchwModel: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'convlens-layout-'));
  image = join(dir, 'sample.png');
  await writePng(image, drawShapes(3, 1, 32, 0.02).image, 32);
  nhwcModel = join(dir, 'keras.onnx');
  nchwModel = join(dir, 'twin.onnx');
  writeModelFile(nhwcModel, keras({ seed: 4, classes: 6 }));
  writeModelFile(nchwModel, keras({ seed: 4, classes: 6, layout: 'nchw' }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const explainBoth = async (inputs: { nhwc: string[]; nchw: string[] }, out: string) => {
  const run = async (model: string, input: string[], to: string) => {
    const r = await cli(
      'explain',
      '--model',
      model,
      ...input,
      '--size',
      '32,32',
      '--method',
      'saliency,gradcam',
      '--out',
      to,
      '--quiet',
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  };
  await run(nhwcModel, inputs.nhwc, join(dir, `${out}-nhwc`));
  await run(nchwModel, inputs.nchw, join(dir, `${out}-nchw`));
  const read = (layout: string, stem: string, method: string) =>
    decodeNpy(readFileSync(join(dir, `${out}-${layout}`, `${stem}.${method}.npy`)));
  return read;
};

/** Largest |a − b| relative to max |b|. */
const relativeGap = (a: Float32Array, b: Float32Array) => {
  let gap = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    gap = Math.max(gap, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return gap / scale;
};

describe('channels-last models', () => {
  it('explain an image: saliency in the model layout equals the NCHW twin transposed, Grad-CAM equals', async () => {
    const read = await explainBoth({ nhwc: ['--image', image], nchw: ['--image', image] }, 'image');
    const nhwc = read('nhwc', 'sample', 'saliency');
    const nchw = read('nchw', 'sample', 'saliency');
    expect(nhwc.shape).toEqual([32, 32, 3]);
    expect(nchw.shape).toEqual([3, 32, 32]);
    const moved = toLayout({ dtype: 'float32', dims: [1, 3, 32, 32], data: nchw.data }, 'nhwc')
      .data as Float32Array;
    // The same float32 graph behind an exact Transpose pair: equal up to kernel choice, 1e-6.
    expect(relativeGap(nhwc.data, moved)).toBeLessThan(1e-6);
    const camA = read('nhwc', 'sample', 'gradcam');
    const camB = read('nchw', 'sample', 'gradcam');
    expect(camA.shape).toEqual([8, 8]);
    expect(relativeGap(camA.data, camB.data)).toBeLessThan(1e-6);
    const record = JSON.parse(readFileSync(join(dir, 'image-nhwc', 'sample.json'), 'utf8'));
    expect(record.preprocessing.layout).toBe('nhwc');
    expect(record.explanations[0].methods.saliency.shape).toEqual([32, 32, 3]);
  });

  it('explain an .npy batch given in the model layout', async () => {
    const x = float32(new Random(5).normals(2 * 3 * 32 * 32), [2, 3, 32, 32]);
    const nhwcFile = join(dir, 'batch-nhwc.npy');
    const nchwFile = join(dir, 'batch-nchw.npy');
    writeFileSync(nhwcFile, encodeNpy(toLayout(x, 'nhwc').data as Float32Array, [2, 32, 32, 3]));
    writeFileSync(nchwFile, encodeNpy(x.data as Float32Array, [2, 3, 32, 32]));
    const read = await explainBoth(
      { nhwc: ['--input-npy', nhwcFile], nchw: ['--input-npy', nchwFile] },
      'npy',
    );
    for (const k of [0, 1]) {
      const nhwc = read('nhwc', `batch-nhwc-${k}`, 'saliency');
      const nchw = read('nchw', `batch-nchw-${k}`, 'saliency');
      const moved = toLayout({ dtype: 'float32', dims: [1, 3, 32, 32], data: nchw.data }, 'nhwc');
      expect(relativeGap(nhwc.data, moved.data as Float32Array)).toBeLessThan(1e-6);
      expect(
        relativeGap(
          read('nhwc', `batch-nhwc-${k}`, 'gradcam').data,
          read('nchw', `batch-nchw-${k}`, 'gradcam').data,
        ),
      ).toBeLessThan(1e-6);
    }
  });

  it("predict gives the twin's probabilities", async () => {
    const top = async (model: string) => {
      const r = await cli('predict', '--model', model, '--image', image, '--size', '32,32', '--json');
      expect(r.code).toBe(0);
      return JSON.parse(r.out).predictions[0].top as { label: string; probability: number }[];
    };
    const [a, b] = [await top(nhwcModel), await top(nchwModel)];
    expect(a.map((t) => t.label)).toEqual(b.map((t) => t.label));
    for (const [k, t] of a.entries()) expect(Math.abs(t.probability - b[k].probability)).toBeLessThan(1e-6);
  });

  it('layers says which layout the model takes', async () => {
    const r = await cli('layers', '--model', nhwcModel, '--size', '32,32');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^input "input": nhwc \[1, 32, 32, 3\]/);
    // tf2onnx's Transpose became an Identity: receptive fields compose through it.
    expect(r.out).toMatch(/\nconv_2 +Conv +\[1, 8, 32, 32\] +3×3 \/1\n/);
    const twin = await cli('layers', '--model', nchwModel, '--size', '32,32', '--json');
    expect(JSON.parse(twin.out).inputLayout).toBe('nchw');
  });

  describe('bad layout input: a clear error, exit 1', () => {
    const cases: { name: string; args: () => string[]; error: RegExp }[] = [
      {
        name: 'unknown --layout',
        args: () => [
          'explain',
          '--model',
          nhwcModel,
          '--image',
          image,
          '--size',
          '32,32',
          '--layout',
          'hwc',
          '--out',
          join(dir, 'bad'),
        ],
        error: /--layout "hwc" is not one of nchw, nhwc/,
      },
      {
        name: 'unknown --layout for layers',
        args: () => ['layers', '--model', nhwcModel, '--size', '32,32', '--layout', 'NCHW'],
        error: /--layout "NCHW" is not one of nchw, nhwc/,
      },
      {
        name: 'an NCHW .npy for an NHWC model',
        args: () => [
          'explain',
          '--model',
          nhwcModel,
          '--input-npy',
          join(dir, 'batch-nchw.npy'),
          '--size',
          '32,32',
          '--out',
          join(dir, 'bad'),
        ],
        error:
          /shape \(2, 3, 32, 32\) does not match the model input \(nhwc, N, H, W, C\); expected \(N, 32, 32, 3\)/,
      },
    ];
    it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
      const r = await cli(...c.args());
      expect(r.code).toBe(1);
      expect(r.err).toMatch(c.error);
      expect(existsSync(join(dir, 'bad'))).toBe(false);
    });
  });
});
