/** `convlens scan`, `merge-scans`, `patches` and `channels`: dataset-wide maximally activating patches. */

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { ModelCard } from '../data/card.js';
import type { Sample } from '../data/dataset.js';
import { BUILTIN_DATASETS, imageFolderSource, loadDatasetSplits } from '../data/node.js';
import { normalizeSample, type Preprocessing } from '../data/preprocess.js';
import { fieldRegion, receptiveFields } from '../methods/inspect/receptiveField.js';
import {
  checkIndex,
  classMeans,
  emptyIndex,
  incompatibility,
  mergeIndexes,
  type ScanIndex,
  type ScanSource,
  scan,
  scannedCount,
  selectivity,
} from '../methods/inspect/scan.js';
import { encodeModel, type Model } from '../onnx/model.js';
import { heatmapSpec } from '../render/charts.js';
import type { GridRow } from '../render/grid.js';
import { cropRegion } from '../render/inspect.js';
import { chartPng, gridPng, writeFileAtomic } from '../render/node.js';
import {
  type CardFlags,
  cardFor,
  datasetPass,
  parsePositiveInt,
  resolveModel,
  withCardFlags,
  writeAll,
} from './common.js';
import { probeExplainer, spatialLayer } from './inspect.js';
import { openModel } from './runtime.js';
import { scanJobOptions, scanKind } from './scanJob.js';
import { isSharded, runShardedVerb, type ShardingFlags, withShardingFlags } from './sharding.js';

export const SPLITS = ['test', 'train'] as const;

/** A dataset to scan: built-in splits are generated or held in memory; folders are decoded lazily. */
export interface ScanData {
  source: ScanSource;
  split: string;
  fingerprint: string;
}

/** `limit` indices spread evenly over `length` (all when limit ≥ length), so samples cover every class of sorted data. */
export const spreadIndices = (length: number, limit: number) =>
  Array.from({ length: Math.min(length, limit) }, (_, i) =>
    Math.floor((i * length) / Math.min(length, limit)),
  );

export async function scanData(spec: string, split: string, p: Preprocessing): Promise<ScanData> {
  if ((BUILTIN_DATASETS as readonly string[]).includes(spec)) {
    const data = (await loadDatasetSplits(spec, p))[split as 'test' | 'train'];
    return {
      source: { length: data.length, classes: data.classes, load: (i) => data.get(i) },
      split,
      fingerprint: `${spec}/${split}/${data.length}@${p.size.join('x')}x${p.channels}`,
    };
  }
  if (!existsSync(spec))
    throw new Error(
      `data "${spec}" is neither a built-in dataset (${BUILTIN_DATASETS.join(', ')}) nor an existing folder`,
    );
  const source = imageFolderSource(spec, p);
  return {
    source,
    split: 'all',
    fingerprint: createHash('sha256').update(source.files.join('\n')).digest('hex'),
  };
}

/** The images a scan index was made from, refused when they have changed since (another fingerprint). */
export async function scannedData(index: ScanIndex, file: string): Promise<ScanData> {
  const data = await scanData(
    index.data.spec,
    index.data.split === 'all' ? 'test' : index.data.split,
    index.data.preprocessing,
  );
  if (data.fingerprint !== index.data.fingerprint)
    throw new Error(
      `the data "${index.data.spec}" of scan index "${file}" has changed since the scan (its fingerprint differs); scan it again`,
    );
  return data;
}

export function modelHash(model: Model, path?: string): string {
  const bytes = path ? readFileSync(path) : encodeModel(model).bytes;
  return createHash('sha256').update(bytes).digest('hex');
}

export function readIndex(file: string): ScanIndex {
  if (!existsSync(file)) throw new Error(`scan index "${file}" does not exist`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    // JSON.parse quotes the text it failed on, which for a binary file is noise.
    const why = (e as Error).message.replace(/, "[\s\S]*$/, '').replace(/[^\x20-\x7e]/g, '?');
    throw new Error(`"${file}" is not a convlens scan index (not JSON: ${why})`);
  }
  return checkIndex(parsed, file);
}

/** Refuse an index made by another model than the one named on the command line. */
function checkIndexModel(index: ScanIndex, file: string, spec: string): void {
  const resolved = resolveModel(spec);
  const hash = modelHash(resolved.model, resolved.path);
  if (hash !== index.model.sha256)
    throw new Error(
      `scan index "${file}" was made by model "${index.model.name}" (sha256 ${index.model.sha256.slice(0, 12)}…), not "${spec}" (${hash.slice(0, 12)}…); give the model it was made with, or leave --model out`,
    );
}

function indexLayer(index: ScanIndex, layer: string | undefined, file: string): string {
  const names = Object.keys(index.layers);
  const chosen = layer ?? names[0];
  if (!index.layers[chosen])
    throw new Error(`layer "${chosen}" is not in "${file}"; it holds ${names.join(', ')}`);
  return chosen;
}

export function parseRange(value: string): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(value.trim());
  if (!m || Number(m[1]) >= Number(m[2]))
    throw new InvalidArgumentError(
      `expected START:END with START < END (images [START, END)), got "${value}"`,
    );
  return [Number(m[1]), Number(m[2])];
}

function parseChannels(value: string): number[] {
  const out: number[] = [];
  for (const part of value.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new InvalidArgumentError(`expected channels like 0,3,8-11, got "${value}"`);
    const to = m[2] === undefined ? Number(m[1]) : Number(m[2]);
    for (let c = Number(m[1]); c <= to; c++) out.push(c);
  }
  return out;
}

export interface ScanFlags extends CardFlags {
  model: string;
  data: string;
  split: string;
  layers?: string;
  top: number;
  batch: number;
  range?: [number, number];
  quiet?: boolean;
}

/** A scan's model session, data and empty index; release `m` when done. */
export async function openScan(flags: ScanFlags) {
  const resolved = resolveModel(flags.model);
  const card = cardFor(resolved.model, flags);
  const data = await scanData(flags.data, flags.split, card.preprocessing);
  const p = card.preprocessing;
  const input = [p.channels, ...p.size];
  const m = openModel(resolved.model, card.preprocessing.layout);
  try {
    const probe = probeExplainer(m, card);
    const requested = flags.layers
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean) ?? [undefined];
    const layers = [...new Set(await Promise.all(requested.map((l) => spatialLayer(probe, l))))];
    const s = await m.prepare({ [m.inputNames[0]]: [1, ...input] });
    const { fields } = receptiveFields(s.model, s.types);
    const info = Object.fromEntries(
      await Promise.all(
        layers.map(async (l) => {
          const [channels, height, width] = await probe.sampleDims(l);
          const f = fields.get(l);
          return [l, { channels, height, width, field: f && f !== 'global' ? f : null }] as const;
        }),
      ),
    );
    const fresh = emptyIndex(
      {
        model: {
          name: card.name === 'model' ? basename(flags.model) : card.name,
          sha256: modelHash(resolved.model, resolved.path),
          input,
        },
        data: {
          spec: flags.data,
          split: data.split,
          length: data.source.length,
          classes: [...data.source.classes],
          fingerprint: data.fingerprint,
          preprocessing: p,
        },
        top: flags.top,
      },
      info,
    );
    return { m, card, data, layers, fresh };
  } catch (e) {
    await m.release();
    throw e;
  }
}

/** Run (or continue) a scan; `resume` is an earlier checkpoint; `control` replaces the terminal's progress and Ctrl-C. */
export async function runScan(
  flags: ScanFlags,
  resume: ScanIndex | undefined,
  checkpoint?: (index: ScanIndex) => void,
  control?: { signal?: AbortSignal },
): Promise<{ index: ScanIndex; finished: boolean; card: ModelCard }> {
  const { m, card, data, layers, fresh } = await openScan(flags);
  const p = card.preprocessing;
  try {
    if (resume) {
      const why = incompatibility(resume, fresh);
      if (why) throw new Error(`cannot resume: the index and this command differ: ${why}`);
    }
    const index = resume ?? fresh;
    const pass = control
      ? { signal: control.signal, onProgress: undefined, release: () => {} }
      : datasetPass('scan', 'the index keeps what was scanned', flags.quiet);
    let lastCheckpoint = Date.now();
    try {
      const finished = await scan(m, data.source, index, {
        layers,
        top: flags.top,
        batch: flags.batch,
        range: flags.range,
        toInput: (sample: Sample, out, offset) => normalizeSample(sample.image, p, out, offset),
        signal: pass.signal,
        onProgress: pass.onProgress,
        onBatch: async (i, resolve) => {
          if (checkpoint && Date.now() - lastCheckpoint > 10_000) {
            await resolve();
            checkpoint(i);
            lastCheckpoint = Date.now();
          }
        },
      });
      return { index, finished, card };
    } finally {
      pass.release();
    }
  } finally {
    await m.release();
  }
}

function withScanFlags(cmd: Command): Command {
  return withCardFlags(
    cmd
      .option('-m, --model <model>', 'ONNX file or shipped model name', 'shapes-gap')
      .option('-d, --data <data>', `${BUILTIN_DATASETS.join(', ')} or an image folder`, 'shapes')
      .addOption(
        new Option('--split <split>', 'split of a built-in dataset').choices([...SPLITS]).default('test'),
      )
      .option(
        '--layers <list>',
        'comma-separated spatial layers (default: the last feature map before the head)',
      )
      .option('--top <k>', 'images kept per channel', parsePositiveInt, 9)
      .option('--batch <n>', 'images per forward pass', parsePositiveInt, 64)
      .option(
        '--range <start:end>',
        'scan images [start, end) only (a shard; merge shards with merge-scans)',
        parseRange,
      )
      .option('-q, --quiet', 'no progress output'),
  );
}

const serialise = (index: ScanIndex) => `${JSON.stringify(index)}\n`;

export function addScanCommands(program: Command): void {
  const scanCommand = withScanFlags(
    program
      .command('scan')
      .description(
        'run a dataset through a model and keep, per channel, the top-k images and positions (a resumable, mergeable index)',
      ),
  )
    .option('-o, --out <index.json>', 'the index file', 'scan.json')
    .option('--resume', 'continue the scan in --out where it stopped')
    .option('--json', 'print a JSON summary');
  withShardingFlags(scanCommand).action(
    async (flags: ScanFlags & ShardingFlags & { out: string; resume?: boolean; json?: boolean }) => {
      let resume: ScanIndex | undefined;
      if (existsSync(flags.out)) {
        if (!flags.resume)
          throw new Error(`"${flags.out}" exists; pass --resume to continue it, or choose another --out`);
        resume = readIndex(flags.out);
      }
      const save = (i: ScanIndex) => writeFileAtomic(flags.out, serialise(i));
      const { index, finished } = isSharded(flags)
        ? await runShardedVerb(scanKind, scanJobOptions(flags), flags, {
            resume,
            checkpoint: save,
            what: 'the index keeps what was merged',
          }).then(({ result, finished }) => ({ index: result, finished }))
        : await runScan(flags, resume, save);
      writeFileAtomic(flags.out, serialise(index));
      const summary = {
        out: flags.out,
        finished,
        scanned: scannedCount(index),
        length: index.data.length,
        intervals: index.scanned,
        layers: Object.fromEntries(
          Object.entries(index.layers).map(([k, l]) => [k, [l.channels, l.height, l.width]]),
        ),
      };
      if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else
        process.stdout.write(
          `${finished ? 'scanned' : 'interrupted:'} ${summary.scanned}/${summary.length} images of ${index.data.spec}/${index.data.split} (${Object.keys(index.layers).join(', ')}) → ${flags.out}${finished ? '' : '; run again with --resume to continue'}\n`,
        );
      if (!finished) process.exitCode = 130;
    },
  );

  program
    .command('merge-scans')
    .description('merge indexes of disjoint shards of one scan (same model, data, layers and top-k)')
    .argument('<indexes...>', 'shard index files')
    .requiredOption('-o, --out <index.json>', 'the merged index')
    .action((files: string[], flags: { out: string }) => {
      const merged = mergeIndexes(files.map(readIndex));
      writeFileAtomic(flags.out, serialise(merged));
      process.stdout.write(
        `merged ${files.length} shards: ${scannedCount(merged)}/${merged.data.length} images → ${flags.out}\n`,
      );
    });

  program
    .command('patches')
    .description("crop each top hit's receptive field from its image: a labelled grid, one row per channel")
    .requiredOption('--index <index.json>', 'a scan index')
    .option('-l, --layer <tensor>', 'layer of the index (default: its first)')
    .option('--channels <list>', 'channels, e.g. 0,3,8-11 (default: the first 16)', parseChannels)
    .option('-o, --out <file.png>', 'output PNG', 'patches.png')
    .action(async (flags: { index: string; layer?: string; channels?: number[]; out: string }) => {
      if (extname(flags.out).toLowerCase() !== '.png')
        throw new Error(`--out "${flags.out}" must end in .png`);
      const index = readIndex(flags.index);
      const layer = indexLayer(index, flags.layer, flags.index);
      const l = index.layers[layer];
      if (!l.field)
        throw new Error(`layer "${layer}" has no modelled receptive field, so patches cannot be cropped`);
      const channels = flags.channels ?? Array.from({ length: Math.min(16, l.channels) }, (_, c) => c);
      const bad = channels.find((c) => c >= l.channels);
      if (bad !== undefined)
        throw new Error(`channel ${bad} is out of range: "${layer}" has channels 0-${l.channels - 1}`);
      const data = await scannedData(index, flags.index);
      const [c0, h, w] = index.model.input;
      const rows: GridRow[] = [];
      for (const c of channels) {
        const cells = [];
        for (const hit of l.top[c]) {
          const sample = await data.source.load(hit.image);
          cells.push({
            image: cropRegion(sample.image, c0, h, w, fieldRegion(l.field, hit.y, hit.x)),
            caption: `#${hit.image} ${hit.value.toPrecision(3)}`,
            pixelated: true,
          });
        }
        rows.push({ label: `channel ${c}`, cells });
      }
      const title = `${index.model.name} · ${layer} · receptive field ${l.field.size.join('×')} px · top ${index.top} of ${scannedCount(index)} ${index.data.spec} images`;
      writeAll(
        dirname(flags.out),
        new Map([[basename(flags.out), await gridPng(rows, { cell: 72, title })]]),
      );
      process.stdout.write(
        `${channels.length} channels × top ${index.top} patches of ${layer} → ${flags.out}\n`,
      );
    });

  withScanFlags(
    program
      .command('channels')
      .description(
        'class × channel mean activations as a heat map, and the most class-selective channels of each class',
      )
      .option('--index <index.json>', 'read a scan index instead of scanning')
      .option('-l, --layer <tensor>', 'layer (default: the index’s first, or the last feature map)')
      .option('--per-class <k>', 'selective channels listed per class', parsePositiveInt, 3)
      .option('-o, --out <file.png>', 'heat map PNG (a JSON of the matrix goes beside it)', 'channels.png')
      .option('--json', 'print JSON'),
  ).action(
    async (
      flags: ScanFlags & { index?: string; layer?: string; perClass: number; out: string; json?: boolean },
      command: Command,
    ) => {
      if (extname(flags.out).toLowerCase() !== '.png')
        throw new Error(`--out "${flags.out}" must end in .png`);
      const read = flags.index ? readIndex(flags.index) : undefined;
      if (read && command.getOptionValueSource('model') === 'cli')
        checkIndexModel(read, flags.index!, flags.model);
      const index =
        read ??
        (
          await runScan(
            { ...flags, layers: flags.layer ?? flags.layers, quiet: flags.quiet || flags.json },
            undefined,
          )
        ).index;
      const source = flags.index ?? `a scan of ${index.data.spec}`;
      const layer = indexLayer(index, flags.index ? flags.layer : undefined, source);
      const classes = index.data.classes;
      if (classes.length < 2 || index.classCounts.filter((n) => n > 0).length < 2)
        throw new Error(
          `"${source}" has images of fewer than two classes; channels compares classes (use a labelled dataset)`,
        );
      const means = classMeans(index, layer);
      const sel = selectivity(means);
      const columns = means[0].map((_, c) => String(c));
      const perClass = classes.map((name, k) => ({
        class: name,
        images: index.classCounts[k],
        channels: sel[k]
          .map((s, c) => ({ channel: c, selectivity: s, mean: means[k][c] }))
          .sort((a, b) => b.selectivity - a.selectivity)
          .slice(0, flags.perClass),
      }));
      const png = await chartPng(
        heatmapSpec(means, classes, columns, {
          title: `${index.model.name} · ${layer}: mean activation per class (${scannedCount(index)} ${index.data.spec} images)`,
          legend: 'mean',
        }),
      );
      const json = `${basename(flags.out, extname(flags.out))}.json`;
      writeAll(
        dirname(flags.out),
        new Map<string, Uint8Array | string>([
          [basename(flags.out), png],
          [json, `${JSON.stringify({ layer, classes, means, selectivity: sel, perClass }, null, 2)}\n`],
        ]),
      );
      if (flags.json) process.stdout.write(`${JSON.stringify({ layer, perClass }, null, 2)}\n`);
      else {
        for (const r of perClass)
          process.stdout.write(
            `${r.class.padEnd(12)} ${r.channels.map((c) => `ch ${c.channel} (selectivity ${c.selectivity.toFixed(2)})`).join(', ')}\n`,
          );
        process.stdout.write(`heat map → ${flags.out}\n`);
      }
    },
  );
}
