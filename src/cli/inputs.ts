/** Inputs for the explanation verbs: image files, a preprocessed .npy tensor, or dataset samples. */
import { existsSync, readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { ModelCard } from '../data/card.js';
import { classMask, type Sample } from '../data/dataset.js';
import { decodeImage, loadDatasetSplits } from '../data/node.js';
import { decodeNpy } from '../data/npy.js';
import { normalizeInto } from '../data/preprocess.js';
import type { Box } from '../methods/attribution/localize.js';
import { toLayout } from '../onnx/layout.js';
import type { Tensor } from '../onnx/tensor.js';
import { denormalize, type RgbImage, rgbFromPlanar } from '../render/image.js';

export interface ExplainInputs {
  /** File-name stems, unique. */
  stems: string[];
  /** Where each sample came from. */
  sources: string[];
  /** The preprocessed batch [N, C, H, W]. */
  input: Tensor;
  /** Each sample as RGB at the model's size, for overlays. */
  images: RgbImage[];
  /** Ground truth when the samples come from a dataset. */
  labels?: number[];
  boxes?: (Box | undefined)[];
  /** Per sample, the union of the masks of every object of its labelled class (shapes). */
  masks?: (Uint8Array | undefined)[];
}

function uniqueStems(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = (seen.get(n) ?? 0) + 1;
    seen.set(n, k);
    return k === 1 ? n : `${n}-${k}`;
  });
}

/** Decode and preprocess image files (every file is checked before any work is done). */
export async function imageInputs(files: string[], card: ModelCard): Promise<ExplainInputs> {
  const p = card.preprocessing;
  const per = p.channels * p.size[0] * p.size[1];
  const data = new Float32Array(files.length * per);
  const images: RgbImage[] = [];
  for (const [i, file] of files.entries()) {
    const pixels = await decodeImage(file, p);
    normalizeInto(pixels, p.channels, p, data, i * per);
    images.push(rgbFromPlanar(pixels, p.channels, p.size[0], p.size[1]));
  }
  return {
    stems: uniqueStems(files.map((f) => basename(f, extname(f)))),
    sources: files,
    input: { dtype: 'float32', dims: [files.length, p.channels, ...p.size], data },
    images,
  };
}

/**
 * An already preprocessed float32 tensor from a .npy file, in the model's layout: (N, C, H, W) or
 * (C, H, W), or for a channels-last model (N, H, W, C) or (H, W, C). The batch comes back NCHW.
 */
export function npyInputs(file: string, card: ModelCard): ExplainInputs {
  if (!existsSync(file)) throw new Error(`--input-npy "${file}" does not exist`);
  const arr = decodeNpy(readFileSync(file), `"${file}"`);
  const p = card.preprocessing;
  const nhwc = p.layout === 'nhwc';
  const expected = nhwc ? [...p.size, p.channels] : [p.channels, ...p.size];
  const names = nhwc ? 'N, H, W, C' : 'N, C, H, W';
  if (arr.dtype !== 'float32')
    throw new Error(`"${file}": dtype ${arr.dtype}; --input-npy takes float32 (numpy: x.astype(np.float32))`);
  const given = arr.shape.length === 3 ? [1, ...arr.shape] : arr.shape;
  if (given.length !== 4 || given.slice(1).some((d, i) => d !== expected[i]) || given[0] < 1)
    throw new Error(
      `"${file}": shape (${arr.shape.join(', ')}) does not match the model input (${p.layout ?? 'nchw'}, ${names}); expected (N, ${expected.join(', ')}) or (${expected.join(', ')})`,
    );
  const values = arr.data as Float32Array;
  for (let j = 0; j < values.length; j++)
    if (!Number.isFinite(values[j])) {
      const at: number[] = [];
      let rest = j;
      for (let k = given.length - 1; k >= 0; k--) {
        at.unshift(rest % given[k]);
        rest = Math.floor(rest / given[k]);
      }
      throw new Error(
        `"${file}" holds ${values[j]} at index (${at.join(', ')}) of (${names}); the model input must be finite`,
      );
    }
  const batch = nhwc
    ? toLayout({ dtype: 'float32', dims: given, data: arr.data }, 'nchw')
    : { dtype: 'float32' as const, dims: given, data: arr.data };
  const shape = batch.dims;
  const data = batch.data as Float32Array;
  const n = shape[0];
  const per = shape[1] * shape[2] * shape[3];
  const stem = basename(file, extname(file));
  const images = Array.from({ length: n }, (_, i) =>
    rgbFromPlanar(
      denormalize(data.subarray(i * per, (i + 1) * per), p.channels, p.mean, p.std),
      p.channels,
      p.size[0],
      p.size[1],
    ),
  );
  return {
    stems: n === 1 ? [stem] : Array.from({ length: n }, (_, i) => `${stem}-${i}`),
    sources: Array.from({ length: n }, (_, i) => (n === 1 ? file : `${file}[${i}]`)),
    input: { dtype: 'float32', dims: shape, data },
    images,
  };
}

/** The first `count` test samples of a dataset (mnist, shapes or a folder), evenly spread over classes when possible. */
export async function datasetInputs(spec: string, card: ModelCard, count: number): Promise<ExplainInputs> {
  const p = card.preprocessing;
  const test = (await loadDatasetSplits(spec, p)).test;
  // One sample per class in turn, so a small report shows different classes. A split sorted by
  // class (MNIST's) runs out of unseen classes before its end, so the scan starts over from the
  // top, skipping what it took, until `count` are taken or the split is exhausted.
  const chosen: number[] = [];
  const samples: Sample[] = [];
  const used = new Set<number>();
  const taken = new Set<number>();
  while (chosen.length < count && taken.size < test.length) {
    const before = chosen.length;
    for (let i = 0; i < test.length && chosen.length < count; i++) {
      if (taken.has(i)) continue;
      const s = test.get(i);
      if (used.has(s.label)) continue;
      chosen.push(i);
      samples.push(s);
      taken.add(i);
      used.add(s.label);
      if (used.size === test.classes.length) used.clear();
    }
    if (chosen.length === before) used.clear();
  }
  const per = p.channels * p.size[0] * p.size[1];
  const data = new Float32Array(chosen.length * per);
  for (const [k, s] of samples.entries()) normalizeInto(s.image, test.channels, p, data, k * per);
  return {
    stems: chosen.map((i) => `${basename(spec).replace(/[^A-Za-z0-9_.-]+/g, '-')}-${i}`),
    sources: chosen.map((i) => `${spec} test sample ${i}`),
    input: { dtype: 'float32', dims: [chosen.length, p.channels, ...p.size], data },
    images: samples.map((s) => rgbFromPlanar(s.image, test.channels, test.height, test.width)),
    labels: samples.map((s) => s.label),
    boxes: samples.map((s) => s.objects?.[0]?.box),
    masks: samples.map(classMask),
  };
}
