/** Helpers shared by the CLI verbs: model resolution, option parsers, the model card from flags, progress. */
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SingleBar } from 'cli-progress';
import { type Command, InvalidArgumentError } from 'commander';
import { type ModelCard, readCard } from '../data/card.js';
import { encodeNpy } from '../data/npy.js';
import {
  NORMALIZATIONS,
  type NormalizationName,
  type Preprocessing,
  RESIZE_MODES,
  type ResizeMode,
  validatePreprocessing,
} from '../data/preprocess.js';
import { deferSignals, readModelFile } from '../node.js';
import { imageAxes, inputLayout, LAYOUTS, type Layout, parseLayout, toLayout } from '../onnx/layout.js';
import type { Model } from '../onnx/model.js';
import { writeFileAtomic } from '../render/node.js';
import type { TrainProgress } from '../train/trainer.js';
import { smallFamilies } from '../zoo/families.js';

export const ZOO = 'zoo:';
export const SHIPPED_MODELS = [
  'digits-gap',
  'shapes-gap',
  'shapes-vgg',
  'photo-styles',
  'digits-scouter+',
  'digits-scouter-',
  'shapes-scouter+',
  'shapes-scouter-',
  'shapes-gan',
  'shapes-seg',
] as const;

/** The package's models/ folder (found upward from this file, for both src/ under tsx and dist/). */
export function modelsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'models');
    dir = dirname(dir);
  }
  throw new Error('convlens: cannot find the package folder holding models/');
}

/** A model path, a shipped model's name (models/NAME.onnx), or `zoo:NAME` (random weights). */
export function resolveModel(spec: string): { model: Model; inputShape?: number[]; path?: string } {
  if (spec.startsWith(ZOO)) {
    const name = spec.slice(ZOO.length);
    const family = smallFamilies().find((f) => f.name === name);
    if (!family) {
      throw new Error(
        `unknown zoo model "${name}"; available: ${smallFamilies()
          .map((f) => ZOO + f.name)
          .join(', ')}`,
      );
    }
    return { model: family.model, inputShape: [1, ...family.inputShape.slice(1)] };
  }
  if ((SHIPPED_MODELS as readonly string[]).includes(spec) && !existsSync(spec)) {
    const path = join(modelsDir(), `${spec}.onnx`);
    return { model: readModelFile(path), path };
  }
  return { model: readModelFile(spec), path: spec };
}

export function parseSize(value: string): number[] {
  const parts = value.split(/[,x]/).map(Number);
  if (parts.length < 1 || parts.length > 2 || parts.some((p) => !Number.isInteger(p) || p <= 0)) {
    throw new InvalidArgumentError(`expected H,W or S (positive integers), got "${value}"`);
  }
  return parts.length === 1 ? [parts[0], parts[0]] : parts;
}

export function parseNumbers(value: string): number[] {
  const parts = value.split(',').map(Number);
  if (parts.some((p) => !Number.isFinite(p)))
    throw new InvalidArgumentError(`expected comma-separated numbers, got "${value}"`);
  return parts;
}

const integerAtLeast =
  (min: number, what: string) =>
  (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`expected ${what}, got "${value}"`);
    return n;
  };
export const parsePositiveInt = integerAtLeast(1, 'a positive integer');
export const parseNonNegativeInt = integerAtLeast(0, 'a non-negative integer');

export function parsePositive(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n))
    throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return n;
}

export const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

export interface CardFlags {
  size?: number[];
  channels?: string;
  mean?: number[];
  std?: number[];
  normalize?: string;
  resize?: string;
  labels?: string;
  layout?: string;
}

/** Add the flags that describe how to feed a model without a card (or override its card). */
export function withCardFlags(cmd: Command): Command {
  return cmd
    .option(
      '-s, --size <H,W>',
      'input height and width (default: the model card, else the declared input)',
      parseSize,
    )
    .option('--channels <1|3>', 'input channels (default: card or declared input)')
    .option('--normalize <name>', `named mean/std preset: ${Object.keys(NORMALIZATIONS).join(', ')}`)
    .option('--mean <m>', 'per-channel mean of pixels in [0,1], e.g. 0.485,0.456,0.406', parseNumbers)
    .option('--std <s>', 'per-channel std, e.g. 0.229,0.224,0.225', parseNumbers)
    .option('--resize <mode>', `how images meet the input size: ${RESIZE_MODES.join(', ')}`)
    .option('--labels <file>', 'class names, one per line')
    .option(
      '--layout <layout>',
      `input layout: ${LAYOUTS.join(', ')} (default: the card, else read from the graph: a leading Transpose or the input's dims)`,
    );
}

/**
 * The model card to use: the model's own card with any flags applied over it, or one made from the
 * flags and the declared input shape (classes empty when no labels are known).
 */
export function cardFor(model: Model, flags: CardFlags): ModelCard {
  const stored = readCard(model);
  // decodeModel drops the initializers older exporters list among the inputs.
  const fed = model.graph.inputs;
  if (fed.length !== 1)
    throw new Error(
      `the model takes ${fed.length} inputs (${fed.map((i) => `"${i.name}"`).join(', ') || 'none'}); convlens feeds models with one image input`,
    );
  const input = fed[0];
  const dims = input.shape ?? [];
  const layout =
    flags.layout !== undefined
      ? parseLayout(flags.layout, '--layout')
      : (stored?.preprocessing.layout ?? inputLayout(model) ?? 'nchw');
  if (layout === 'nhwc' && dims.length !== 4)
    throw new Error(`layout nhwc: input "${input.name}" has shape [${dims.join(', ')}], not [N, H, W, C]`);
  const axes = imageAxes(layout);
  const declared = (i: number) => (typeof dims[i] === 'number' ? (dims[i] as number) : undefined);
  const size =
    flags.size ??
    stored?.preprocessing.size ??
    (declared(axes.height) && declared(axes.width)
      ? [declared(axes.height)!, declared(axes.width)!]
      : undefined);
  if (!size)
    throw new Error(
      `model has no convlens card and input "${input.name}" has no fixed height and width; give --size H,W`,
    );
  const fromInput =
    flags.channels === undefined && stored === undefined && declared(axes.channels) !== undefined;
  const channelsText =
    flags.channels ?? String(stored?.preprocessing.channels ?? declared(axes.channels) ?? 3);
  if (channelsText !== '1' && channelsText !== '3')
    throw new Error(
      fromInput
        ? `input "${input.name}" [${dims.join(', ')}] read as ${layout} has ${channelsText} channels; convlens feeds 1 or 3 (is the layout right? --layout ${LAYOUTS.join('|')})`
        : `--channels must be 1 or 3, got "${channelsText}"`,
    );
  let mean = flags.mean ?? stored?.preprocessing.mean;
  let std = flags.std ?? stored?.preprocessing.std;
  if (flags.normalize) {
    const preset = NORMALIZATIONS[flags.normalize as NormalizationName];
    if (!preset)
      throw new Error(
        `--normalize "${flags.normalize}" is not one of ${Object.keys(NORMALIZATIONS).join(', ')}`,
      );
    mean = flags.mean ?? [...preset.mean];
    std = flags.std ?? [...preset.std];
  }
  const preprocessing: Preprocessing = {
    size: [size[0], size[1]],
    channels: Number(channelsText) as 1 | 3,
    resize: (flags.resize ?? stored?.preprocessing.resize ?? 'exact') as ResizeMode,
    mean: mean ?? [0],
    std: std ?? [1],
    // NCHW, the default, is written only when asked for or already stored.
    ...(layout === 'nhwc' || flags.layout !== undefined || stored?.preprocessing.layout ? { layout } : {}),
  };
  validatePreprocessing(preprocessing);
  const classes = flags.labels ? readLabels(flags.labels) : stored?.classes;
  return { ...stored, name: stored?.name ?? 'model', classes: classes ?? [], preprocessing };
}

/** Class names from a labels file, one per line (blank lines skipped); throws for a missing or empty file. */
export function readLabels(file: string): string[] {
  if (!existsSync(file)) throw new Error(`labels file "${file}" does not exist`);
  const labels = readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (labels.length === 0) throw new Error(`labels file "${file}" has no labels`);
  return labels;
}

/** A progress reporter for training: a live bar on a terminal, one line per epoch otherwise. */
export function trainingProgress(quiet = false): {
  onProgress: (e: TrainProgress) => void;
  stop: () => void;
} {
  const tty = process.stderr.isTTY;
  const bar =
    tty && !quiet
      ? new SingleBar({
          format: 'epoch {epoch}/{epochs} [{bar}] {value}/{total} loss {loss} acc {acc} lr {lr}',
          stream: process.stderr,
          hideCursor: true,
        })
      : undefined;
  let started = false;
  return {
    onProgress(e) {
      if (quiet) return;
      const values = {
        epoch: e.epoch,
        epochs: e.epochs,
        loss: e.loss.toFixed(4),
        acc: e.accuracy.toFixed(4),
        lr: e.lr.toExponential(1),
      };
      if (e.phase === 'train' && bar) {
        if (!started || e.step === 1) {
          if (started) bar.stop();
          bar.start(e.steps, e.step, values);
          started = true;
        } else bar.update(e.step, values);
      }
      if (e.phase === 'validate') {
        if (bar) bar.stop();
        started = false;
        process.stderr.write(
          `epoch ${e.epoch}/${e.epochs}  train loss ${e.loss.toFixed(4)}  val acc ${(100 * e.accuracy).toFixed(2)}%\n`,
        );
      }
    },
    stop() {
      if (bar && started) bar.stop();
    },
  };
}

/**
 * Make `dir` and its missing parents one level at a time, returning those it made (outermost
 * first). Each level is its own mkdir, so an error names the level that failed; Node's recursive
 * mkdir loops forever where a parent refuses every child (e.g. under /proc).
 */
export function makeFolder(dir: string, what = 'output folder'): string[] {
  const missing: string[] = [];
  let at = resolve(dir);
  while (!existsSync(at)) {
    missing.unshift(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  if (existsSync(at) && !statSync(at).isDirectory())
    throw new Error(`${what} "${dir}": "${at}" is a file, not a folder`);
  const made: string[] = [];
  try {
    for (const level of missing) {
      mkdirSync(level);
      made.push(level);
    }
  } catch (e) {
    removeFolders(made);
    const err = e as NodeJS.ErrnoException;
    throw new Error(
      `cannot create ${what} "${dir}": ${err.code ?? ''} ${err.message.replace(/^[A-Z]+: /, '')}`,
    );
  }
  return made;
}

/** Remove folders this process made (innermost first), if they are still empty. */
function removeFolders(made: readonly string[]): void {
  for (const f of [...made].reverse())
    try {
      rmdirSync(f);
    } catch {
      // not empty any more (another process wrote into it): leave it
    }
}

/**
 * Write every file or none: each atomically, and all removed again if one fails (with any folder
 * made for them). A lock file keeps two runs from writing into one folder at once.
 */
export function writeAll(dir: string, files: Map<string, Uint8Array | string>): void {
  deferSignals(() => writeAllNow(dir, files));
}

function writeAllNow(dir: string, files: Map<string, Uint8Array | string>): void {
  const made = makeFolder(dir);
  const lock = join(dir, '.convlens-writing');
  try {
    writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
  } catch (e) {
    removeFolders(made);
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new Error(
        `output folder "${dir}" is being written by another convlens run (pid ${readFileSync(lock, 'utf8').trim()}); wait for it or choose another --out (a stale lock from a killed run: delete ${lock})`,
      );
    throw new Error(`cannot write into output folder "${dir}": ${(e as Error).message}`);
  }
  const written: string[] = [];
  try {
    for (const [name, bytes] of files) {
      const path = join(dir, name);
      if (existsSync(path) && statSync(path).isDirectory())
        throw new Error(`cannot write "${path}": a folder of that name is in the way`);
      writeFileAtomic(path, bytes);
      written.push(path);
    }
  } catch (e) {
    for (const w of written) rmSync(w, { force: true });
    rmSync(lock, { force: true });
    removeFolders(made);
    throw e;
  }
  rmSync(lock, { force: true });
}

/**
 * A resumable dataset pass on the command line: Ctrl-C (or SIGTERM) aborts `signal` after the
 * current batch, saying that `what` keeps what was done; `onProgress` drives an images bar on a
 * terminal (its label, e.g. the stage, may change). `release()` stops the bar and the handlers.
 */
export function datasetPass(
  verb: string,
  what: string,
  quiet = false,
): {
  signal: AbortSignal;
  onProgress: (p: { done: number; total: number; stage?: string }) => void;
  release: () => void;
} {
  const stop = new AbortController();
  const onSignal = () => {
    if (!quiet) process.stderr.write(`\nstopping after this batch; ${what}\n`);
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const bar =
    process.stderr.isTTY && !quiet
      ? new SingleBar({
          format: `${verb}{stage} [{bar}] {value}/{total} images {eta_formatted}`,
          stream: process.stderr,
          hideCursor: true,
        })
      : undefined;
  return {
    signal: stop.signal,
    onProgress: ({ done, total, stage }) => {
      if (!bar) return;
      const label = { stage: stage ? ` ${stage}` : '' };
      if (bar.getTotal() !== total) bar.start(total, done, label);
      else bar.update(done, label);
    },
    release: () => {
      bar?.stop();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** A progress bar per named step on a terminal (nothing otherwise, or when quiet). */
export function stepProgress(quiet: boolean): {
  onProgress: (p: { method: string; done: number; total: number }) => void;
  stop: () => void;
} {
  const tty = process.stderr.isTTY && !quiet;
  let bar: SingleBar | undefined;
  let current = '';
  return {
    onProgress(p) {
      if (!tty || p.total < 2) return;
      if (p.method !== current) {
        bar?.stop();
        bar = new SingleBar({
          format: `${p.method.padEnd(16)} [{bar}] {value}/{total}`,
          stream: process.stderr,
          hideCursor: true,
        });
        bar.start(p.total, p.done);
        current = p.method;
      } else bar?.update(p.done);
    },
    stop() {
      bar?.stop();
      current = '';
    },
  };
}

/**
 * An array in model-input space ((N,) C, H, W in NCHW) as .npy bytes in the model's layout:
 * ((N,) H, W, C) for a channels-last model, so it can be fed back to it unchanged.
 */
export function inputNpy(
  data: Float32Array,
  dims: readonly number[],
  layout: Layout | undefined,
): Uint8Array {
  if (layout !== 'nhwc') return encodeNpy(data, dims);
  const batched = dims.length === 3 ? [1, ...dims] : [...dims];
  const t = toLayout({ dtype: 'float32', dims: batched, data }, 'nhwc');
  return encodeNpy(t.data as Float32Array, dims.length === 3 ? t.dims.slice(1) : t.dims);
}
