/**
 * Seeded fuzzing of what users hand convlens: model bytes (bit flips, truncations, changed
 * length-like bytes) through decoding, onnxruntime session creation, a forward and a gradient
 * run; image bytes through decoding and preprocessing. Every case must end in a valid result or a
 * thrown Error with a message: the process never dies. Used by fuzz.test.ts (a few hundred cases)
 * and `npm run fuzz` (thousands).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { decodeImage } from '../data/node.js';
import { drawShapes } from '../data/shapes.js';
import { Random } from '../maths/random.js';
import { decodeModel } from '../onnx/model.js';
import { float32 } from '../onnx/tensor.js';
import { ConvlensModel } from '../runtime/model.js';
import { nodeBackend } from '../runtime/node.js';

/** A shapes test picture (64×64 RGB) as a sharp pipeline, to encode in any format. */
export function shapesPicture(): Sharp {
  const img = drawShapes(2, 0, 64, 0.02).image;
  const px = Buffer.alloc(64 * 64 * 3);
  for (let i = 0; i < 4096; i++)
    for (let c = 0; c < 3; c++) px[i * 3 + c] = Math.round(img[c * 4096 + i] * 255);
  return sharp(px, { raw: { width: 64, height: 64, channels: 3 } });
}

export const MUTATIONS = ['bit flips', 'truncation', 'changed byte'] as const;

/** Case k's mutation of `bytes` (seeded): a few bit flips, a truncation, or one byte changed near the start (where protobuf and image headers keep lengths). */
export function mutate(bytes: Uint8Array, k: number, random: Random): Uint8Array {
  const b = Uint8Array.from(bytes);
  const kind = k % MUTATIONS.length;
  if (kind === 0) {
    for (let f = 0; f < 1 + (k % 8); f++)
      b[Math.floor(random.next() * b.length)] ^= 1 << Math.floor(random.next() * 8);
    return b;
  }
  if (kind === 1) return b.subarray(0, Math.floor(random.next() * b.length));
  const i = Math.floor(random.next() * Math.min(b.length, 4096));
  b[i] = (b[i] + 1 + Math.floor(random.next() * 254)) & 0xff;
  return b;
}

export interface FuzzTally {
  cases: number;
  /** Cases that decoded and ran. */
  valid: number;
  /** Error messages (first words) and how often each came. */
  errors: Record<string, number>;
  /** Throws that were not an Error with a message (must stay 0). */
  unnamed: number;
}

function count(tally: FuzzTally, e: unknown): void {
  if (!(e instanceof Error) || e.message.trim() === '') {
    tally.unnamed++;
    return;
  }
  const key = e.message
    .replace(/"[^"]*"/g, '"…"')
    .split(/[:;(\n]/)[0]
    .slice(0, 60);
  tally.errors[key] = (tally.errors[key] ?? 0) + 1;
}

/**
 * Fuzz a classifier's ONNX bytes: decode, open a session, run forward and a gradient of the first
 * output's sum with respect to the input.
 */
export async function fuzzModel(
  bytes: Uint8Array,
  input: number[],
  cases: number,
  seed = 1,
): Promise<FuzzTally> {
  const random = new Random(seed);
  const tally: FuzzTally = { cases, valid: 0, errors: {}, unnamed: 0 };
  const x = float32(new Float32Array(input.reduce((a, b) => a * b, 1)).fill(0.5), input);
  for (let k = 0; k < cases; k++) {
    try {
      const model = decodeModel(mutate(bytes, k, random), { source: `"case ${k}"` });
      const m = new ConvlensModel(model, nodeBackend(), { threads: 1 });
      try {
        const out = (await m.run(x))[m.outputNames[0]];
        await m.gradients(x, {
          objective: [
            {
              tensor: m.outputNames[0],
              weights: float32(new Float32Array(out.data.length).fill(1), out.dims),
            },
          ],
          wrt: [m.inputNames[0]],
        });
      } finally {
        await m.release();
      }
      tally.valid++;
    } catch (e) {
      count(tally, e);
    }
  }
  return tally;
}

/** Fuzz image bytes through decoding and preprocessing to 64×64 RGB. */
export async function fuzzImage(
  bytes: Uint8Array,
  extension: string,
  cases: number,
  seed = 1,
): Promise<FuzzTally> {
  const random = new Random(seed);
  const tally: FuzzTally = { cases, valid: 0, errors: {}, unnamed: 0 };
  const dir = mkdtempSync(join(tmpdir(), 'convlens-fuzz-'));
  try {
    for (let k = 0; k < cases; k++) {
      const file = join(dir, `case${k}.${extension}`);
      writeFileSync(file, mutate(bytes, k, random));
      try {
        await decodeImage(file, { size: [64, 64], channels: 3, resize: 'exact' });
        tally.valid++;
      } catch (e) {
        count(tally, e);
      }
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return tally;
}
