/**
 * GrabCut (Rother, Kolmogorov & Blake 2004) from OpenCV's WebAssembly build
 * (@techstark/opencv-js), loaded on first use so that nothing else pays for its 7 MB; the same
 * module runs in Node and in browsers (where the app hands it the loader, see setOpenCvLoader).
 */
import type { RgbImage } from '../../render/image.js';
import { GRABCUT_LABELS } from './seeds.js';

/** The part of OpenCV.js used here. */
interface OpenCvMat {
  data: Uint8Array;
  delete(): void;
}
interface OpenCv {
  Mat: { new (): OpenCvMat; new (rows: number, cols: number, type: number): OpenCvMat };
  Rect: new (x: number, y: number, w: number, h: number) => unknown;
  CV_8UC1: number;
  CV_8UC3: number;
  GC_INIT_WITH_MASK: number;
  grabCut(
    image: OpenCvMat,
    mask: OpenCvMat,
    rect: unknown,
    bgd: OpenCvMat,
    fgd: OpenCvMat,
    iterations: number,
    mode: number,
  ): void;
  onRuntimeInitialized?: () => void;
}

let loading: Promise<{ cv: OpenCv }> | undefined;
/** Loads OpenCV.js's module, wrapped in an object (the module itself is a self-resolving thenable). */
export type OpenCvLoader = () => Promise<{ module: unknown }> | { module: unknown };
// A specifier bundlers do not follow: the 7 MB module stays out of every bundle unless an app asks.
const OPENCV = '@techstark/opencv-js';
let loader: OpenCvLoader = async () => ({
  module: ((await import(/* @vite-ignore */ OPENCV)) as { default: unknown }).default,
});

/**
 * How OpenCV.js's module is obtained. The default imports it at run time by name (Node, or a
 * browser with an import map); the Node edge uses `require`, which test runners that rewrite
 * imports leave alone. A bundled web app imports it itself (statically: awaiting a bundler's
 * namespace of it would adopt its self-resolving `then`) and passes it on:
 *
 * @example
 * ```ts
 * import cv from '@techstark/opencv-js'; // after globalThis.Module ??= {} in an earlier module
 * setOpenCvLoader(() => ({ module: cv }));
 * ```
 */
export function setOpenCvLoader(load: OpenCvLoader): void {
  loader = load;
  loading = undefined;
}

/**
 * OpenCV.js, initialised (loaded once). It comes wrapped: the Emscripten module is a thenable
 * whose `then` hands back itself, so resolving a promise with it never settles.
 */
export function openCv(): Promise<{ cv: OpenCv }> {
  loading ??= (async () => {
    const cv = (await withoutProcessHooks(async () => loader())).module as OpenCv;
    // Its WebAssembly runtime starts asynchronously; Mat exists once it has. Module loaders that
    // wrap CommonJS exports may hide onRuntimeInitialized, so poll as well.
    const started = Date.now();
    while (!cv.Mat) {
      if (Date.now() - started > 60_000) throw new Error('OpenCV.js did not start within 60 s');
      await new Promise<void>((tick) => {
        cv.onRuntimeInitialized = tick;
        setTimeout(tick, 20);
      });
    }
    return { cv };
  })();
  loading.catch(() => (loading = undefined));
  return loading;
}

type ProcessLike = {
  listeners(event: string): unknown[];
  removeListener(event: string, listener: unknown): void;
};

/**
 * Run `load` and drop the process-wide handlers it installs: Emscripten's Node glue adds an
 * 'unhandledRejection' handler that aborts the whole process (and an 'uncaughtException' one that
 * rethrows), which a library must not impose on its host. A no-op outside Node.
 */
async function withoutProcessHooks<T>(load: () => Promise<T>): Promise<T> {
  const proc = (globalThis as { process?: ProcessLike }).process;
  const events = ['unhandledRejection', 'uncaughtException'];
  const before = proc ? events.map((e) => new Set(proc.listeners(e))) : [];
  try {
    return await load();
  } finally {
    if (proc)
      events.forEach((e, k) => {
        for (const l of proc.listeners(e)) if (!before[k].has(l)) proc.removeListener(e, l);
      });
  }
}

/**
 * Run GrabCut on an RGB image from per-pixel labels (GRABCUT_LABELS) and return the object mask
 * (1 where GrabCut ends foreground or probably foreground, else 0).
 *
 * @example
 * const mask = await grabCut(image, seedLabels(plane).labels, 5);
 */
export async function grabCut(image: RgbImage, labels: Uint8Array, iterations = 5): Promise<Uint8Array> {
  const { width, height } = image;
  if (labels.length !== width * height)
    throw new Error(`grabCut: ${labels.length} labels for a ${width}×${height} image`);
  if (!Number.isInteger(iterations) || iterations < 1)
    throw new Error(`grabCut: iterations must be a positive integer, got ${iterations}`);
  const L = GRABCUT_LABELS;
  const out = new Uint8Array(width * height);
  const isForeground = (l: number) => l === L.foreground || l === L.probablyForeground;
  // GrabCut fits a colour model to each side: with one side empty the labels are the answer.
  if (labels.every(isForeground) || !labels.some(isForeground))
    return labels.map((l) => (isForeground(l) ? 1 : 0));
  const { cv } = await openCv();
  const img = new cv.Mat(height, width, cv.CV_8UC3);
  const mask = new cv.Mat(height, width, cv.CV_8UC1);
  const bgd = new cv.Mat();
  const fgd = new cv.Mat();
  try {
    img.data.set(image.data);
    mask.data.set(labels);
    try {
      cv.grabCut(img, mask, new cv.Rect(0, 0, 1, 1), bgd, fgd, iterations, cv.GC_INIT_WITH_MASK);
    } catch (e) {
      // OpenCV.js throws its exceptions as numbers (pointers into its heap).
      throw new Error(`grabCut: OpenCV failed on a ${width}×${height} image (${String(e)})`);
    }
    for (let i = 0; i < out.length; i++) out[i] = isForeground(mask.data[i]) ? 1 : 0;
  } finally {
    for (const m of [img, mask, bgd, fgd]) m.delete();
  }
  return out;
}
