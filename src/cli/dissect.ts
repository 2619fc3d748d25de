/** `convlens dissect` and `merge-dissections`: label every unit of a layer with the concept it detects. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { ModelCard } from '../data/card.js';
import { conceptFolderSource } from '../data/conceptFolder.js';
import { type ConceptSource, shapesConcepts } from '../data/concepts.js';
import { normalizeSample } from '../data/preprocess.js';
import { featureMapsOf } from '../methods/attribution/featureMaps.js';
import type { Explainer } from '../methods/attribution/pipeline.js';
import {
  checkQuantile,
  completeDissection,
  countedImages,
  DEFAULT_IOU,
  DEFAULT_QUANTILE,
  type DissectionResult,
  type DissectionState,
  dissectionResult,
  dissectPass,
  emptyState,
  mergeStates,
  stateIncompatibility,
} from '../methods/inspect/dissect/dissect.js';
import { parseState, serializeState } from '../methods/inspect/dissect/state.js';
import { encodeModel } from '../onnx/model.js';
import { dissectionSummarySpec, unitRegionImage } from '../render/dissect.js';
import type { GridRow } from '../render/grid.js';
import { rgbFromPlanar } from '../render/image.js';
import { chartPng, gridPng } from '../render/node.js';
import type { ConvlensModel } from '../runtime/model.js';
import { reinitialized } from '../train/initialize.js';
import {
  type CardFlags,
  cardFor,
  datasetPass,
  parseNonNegativeInt,
  parsePositiveInt,
  resolveModel,
  withCardFlags,
  writeAll,
} from './common.js';
import { dissectJobOptions, dissectKind } from './dissectJob.js';
import { fileSlug, probeExplainer, spatialLayer } from './inspect.js';
import { openModel } from './runtime.js';
import { parseRange } from './scan.js';
import { isSharded, runShardedVerb, type ShardingFlags, withShardingFlags } from './sharding.js';

export const SHAPES_CONCEPTS = 'shapes-concepts';
/** shapes-concepts images are those of the shapes test split (seed 2). */
const SHAPES_CONCEPTS_SEED = 2;
const STATE_FILE = 'dissect.state.json';
/** Activation ops whose outputs are a conv layer's units by default. */
const ACTIVATIONS = new Set([
  'Relu',
  'LeakyRelu',
  'PRelu',
  'Elu',
  'Selu',
  'Celu',
  'Gelu',
  'Sigmoid',
  'HardSigmoid',
  'HardSwish',
  'Mish',
  'Softplus',
  'Tanh',
  'Clip',
]);

export interface DissectFlags extends CardFlags {
  model: string;
  data: string;
  images: number;
  layers?: string;
  quantile: number;
  iou: number;
  batch: number;
  range?: [number, number];
  resume?: boolean;
  out: string;
  units: number;
  listConcepts?: boolean;
  reinit?: number;
  json?: boolean;
  quiet?: boolean;
}

const parseFraction = (what: string, open: boolean) => (value: string) => {
  const n = Number(value);
  if (value.trim() === '' || !(open ? n > 0 && n < 1 : n >= 0 && n < 1))
    throw new InvalidArgumentError(
      `--${what} must be a number in ${open ? '(0, 1)' : '[0, 1)'}, got "${value}"`,
    );
  return n;
};

/** The concept data: shapes-concepts at the model's size, or a concept folder. */
function conceptSource(flags: Pick<DissectFlags, 'data' | 'images'>, card: ModelCard): ConceptSource {
  const p = card.preprocessing;
  if (flags.data === SHAPES_CONCEPTS) {
    if (p.size[0] !== p.size[1] || p.size[0] < 16 || p.channels !== 3)
      throw new Error(
        `${SHAPES_CONCEPTS} draws square RGB images of at least 16 px; this model takes ${p.channels}×${p.size.join('×')} (use a concept folder)`,
      );
    return shapesConcepts({ length: flags.images, seed: SHAPES_CONCEPTS_SEED, size: p.size[0] });
  }
  if (!existsSync(flags.data))
    throw new Error(`data "${flags.data}" is neither ${SHAPES_CONCEPTS} nor an existing concept folder`);
  return conceptFolderSource(flags.data, p);
}

function fingerprint(flags: Pick<DissectFlags, 'data' | 'images'>, source: ConceptSource): string {
  if (flags.data === SHAPES_CONCEPTS)
    return `${SHAPES_CONCEPTS}/${SHAPES_CONCEPTS_SEED}/${flags.images}@${source.height}`;
  const files = (source as ConceptSource & { files?: string[] }).files ?? [];
  return createHash('sha256')
    .update(files.join('\n'))
    .update(JSON.stringify(source.vocabulary))
    .digest('hex');
}

/** The layers to dissect: those asked for, or every activation after a conv (else the last feature map). */
async function chooseLayers(
  m: ConvlensModel,
  probe: Explainer,
  requested: string | undefined,
): Promise<string[]> {
  if (requested !== undefined) {
    const names = requested
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    return [...new Set(await Promise.all(names.map((l) => spatialLayer(probe, l))))];
  }
  const maps = featureMapsOf(m.model, await probe.layers()).filter((l) => ACTIVATIONS.has(l.opType));
  return maps.length > 0 ? maps.map((l) => l.tensor) : [await spatialLayer(probe)];
}

function readState(file: string): DissectionState {
  return parseState(readFileSync(file, 'utf8'), file);
}

/** The model's maps at `layers` for some images of the source, as [image → layer → Float32Array (C·h·w)]. */
async function mapsOf(
  m: ConvlensModel,
  source: ConceptSource,
  card: ModelCard,
  images: number[],
  layers: string[],
  batch: number,
) {
  const p = card.preprocessing;
  const per = p.channels * p.size[0] * p.size[1];
  const out = new Map<number, { image: Float32Array; maps: Record<string, Float32Array> }>();
  for (let b = 0; b < images.length; b += batch) {
    const chunk = images.slice(b, b + batch);
    const x = new Float32Array(chunk.length * per);
    const samples = await Promise.all(chunk.map((i) => source.load(i)));
    for (const [j, s] of samples.entries()) normalizeSample(s.image, p, x, j * per);
    const result = await m.run(
      { dtype: 'float32', dims: [chunk.length, p.channels, ...p.size], data: x },
      { outputs: layers },
    );
    for (const [j, i] of chunk.entries())
      out.set(i, {
        image: samples[j].image,
        maps: Object.fromEntries(
          layers.map((l) => {
            const size = result[l].data.length / chunk.length;
            return [l, (result[l].data as Float32Array).slice(j * size, (j + 1) * size)];
          }),
        ),
      });
  }
  return out;
}

/** Per layer, a grid: one row per labelled unit (best IoU first), its top images with the region outlined. */
async function unitGrids(
  m: ConvlensModel,
  source: ConceptSource,
  card: ModelCard,
  result: DissectionResult,
  perLayer: number,
  batch: number,
): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const shown = result.layers.map((l) => ({
    layer: l,
    units: l.units
      .filter((u) => u.label !== null)
      .sort((a, b) => b.iou - a.iou)
      .slice(0, perLayer),
  }));
  const images = [...new Set(shown.flatMap((s) => s.units.flatMap((u) => u.images.map(([i]) => i))))].sort(
    (a, b) => a - b,
  );
  if (images.length === 0) return files;
  const maps = await mapsOf(
    m,
    source,
    card,
    images,
    result.layers.map((l) => l.layer),
    batch,
  );
  const [height, width] = [source.height, source.width];
  for (const { layer, units } of shown) {
    if (units.length === 0) continue;
    const [, h, w] = layer.shape;
    const rows: GridRow[] = units.map((u) => ({
      label: `${u.unit}: ${u.label} ${u.iou.toFixed(2).replace(/^0/, '')}`,
      cells: u.images.map(([i, value]) => {
        const { image, maps: byLayer } = maps.get(i)!;
        const rgb = rgbFromPlanar(image, source.channels, height, width);
        const map = byLayer[layer.layer].subarray(u.unit * h * w, (u.unit + 1) * h * w);
        return {
          image: unitRegionImage(rgb, map, h, w, u.threshold),
          caption: `#${i} ${value.toPrecision(3)}`,
          pixelated: true,
        };
      }),
    }));
    const title = `${result.model.name} · ${layer.layer}: ${layer.interpretable} of ${layer.units.length} units labelled (IoU > ${result.iouThreshold}); top images, region ≥ T_k outlined`;
    files.set(`${fileSlug(layer.layer)}.units.png`, await gridPng(rows, { cell: 84, title }));
  }
  return files;
}

function summaryText(result: DissectionResult): string {
  const lines = result.layers.map((l) => {
    const cats = Object.entries(l.byCategory)
      .filter(([, n]) => n > 0)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    return `${l.layer.padEnd(14)} ${String(l.interpretable).padStart(4)} of ${String(l.units.length).padEnd(4)} units labelled, ${l.uniqueConcepts} concepts${cats ? ` (${cats})` : ''}`;
  });
  return `${lines.join('\n')}\n`;
}

/** A dissection's model session, concept data, empty state and pass options; release `m` when done. */
export async function openDissection(flags: DissectFlags) {
  checkQuantile(flags.quantile);
  const given = resolveModel(flags.model);
  const card = cardFor(given.model, flags);
  // A re-initialised copy is a new model: hashed from its bytes, named after its seed.
  const resolved = flags.reinit === undefined ? given : { model: reinitialized(given.model, flags.reinit) };
  const source = conceptSource(flags, card);
  if (source.length === 0) throw new Error(`the dataset "${flags.data}" is empty`);
  const p = card.preprocessing;
  const m = openModel(resolved.model, p.layout);
  try {
    const probe = probeExplainer(m, card);
    const layers = await chooseLayers(m, probe, flags.layers);
    const dims = Object.fromEntries(
      await Promise.all(
        layers.map(async (l) => {
          const [channels, height, width] = await probe.sampleDims(l);
          return [l, { channels, height, width }] as const;
        }),
      ),
    );
    const fresh = emptyState(
      {
        model: {
          name: `${card.name === 'model' ? basename(flags.model) : card.name}${flags.reinit === undefined ? '' : ` (random init, seed ${flags.reinit})`}`,
          sha256: createHash('sha256')
            .update(resolved.path ? readFileSync(resolved.path) : encodeModel(resolved.model).bytes)
            .digest('hex'),
          input: [p.channels, ...p.size],
        },
        data: {
          spec: flags.data,
          length: source.length,
          fingerprint: fingerprint(flags, source),
          preprocessing: p,
          vocabulary: source.vocabulary,
        },
      },
      dims,
      { quantile: flags.quantile, size: [source.height, source.width] },
    );
    const passOptions = (control: {
      signal?: AbortSignal;
      onProgress?: (p: { done: number; total: number }) => void;
      onBatch?: (s: DissectionState) => void;
    }) => ({
      layers,
      quantile: flags.quantile,
      batch: flags.batch,
      range: flags.range,
      toInput: (s: { image: Float32Array }, out: Float32Array, offset: number) =>
        normalizeSample(s.image, p, out, offset),
      ...control,
    });
    return { m, card, source, fresh, passOptions };
  } catch (e) {
    await m.release();
    throw e;
  }
}

async function runDissect(flags: DissectFlags & ShardingFlags): Promise<void> {
  if (flags.listConcepts) {
    const { categories, concepts } = conceptSource(
      flags,
      cardFor(resolveModel(flags.model).model, flags),
    ).vocabulary;
    for (const cat of categories)
      process.stdout.write(
        `${cat}: ${concepts
          .filter((c) => c.category === cat)
          .map((c) => c.name)
          .join(', ')}\n`,
      );
    return;
  }
  const { m, card, source, fresh, passOptions } = await openDissection(flags);
  try {
    const stateFile = join(flags.out, STATE_FILE);
    let state = fresh;
    let resume: DissectionState | undefined;
    if (existsSync(stateFile)) {
      if (!flags.resume)
        throw new Error(`"${stateFile}" exists; pass --resume to continue it, or choose another --out`);
      resume = readState(stateFile);
      const why = stateIncompatibility(resume, fresh);
      if (why) throw new Error(`cannot resume: the state and this command differ: ${why}`);
      state = resume;
    }
    const save = (s: DissectionState) => writeAll(flags.out, new Map([[STATE_FILE, serializeState(s)]]));
    let finished = false;
    if (isSharded(flags)) {
      const run = await runShardedVerb(dissectKind, dissectJobOptions(flags), flags, {
        resume,
        checkpoint: save,
        what: 'the state keeps what was merged',
      });
      state = run.result;
      finished = run.finished;
    }
    const pass = datasetPass('dissect', 'the state keeps what was counted', flags.quiet);
    let lastCheckpoint = Date.now();
    const options = passOptions({
      signal: pass.signal,
      onProgress: pass.onProgress,
      onBatch: (s: DissectionState) => {
        if (Date.now() - lastCheckpoint > 10_000) {
          save(s);
          lastCheckpoint = Date.now();
        }
      },
    });
    try {
      if (!isSharded(flags)) finished = await dissectPass(m, source, state, options);
      if (finished && countedImages(state) === source.length)
        await completeDissection(m, source, state, options);
    } finally {
      pass.release();
    }
    if (!finished || countedImages(state) < source.length) {
      save(state);
      process.stdout.write(
        `${finished ? 'counted' : 'interrupted:'} ${countedImages(state)}/${source.length} images → ${stateFile}; ${finished ? 'merge the shards with merge-dissections, then' : ''} run again with --resume to finish\n`,
      );
      if (!finished) process.exitCode = 130;
      return;
    }
    const result = dissectionResult(state, { iou: flags.iou });
    const files = new Map<string, Uint8Array | string>([
      ['dissect.json', `${JSON.stringify(result, null, 2)}\n`],
      [STATE_FILE, serializeState(state)],
      [
        'summary.png',
        await chartPng(
          dissectionSummarySpec([{ name: result.model.name, result }], {
            title: `${result.model.name}: units labelled per layer (${result.data.images} ${flags.data} images, IoU > ${flags.iou})`,
          }),
        ),
      ],
    ]);
    for (const [name, png] of await unitGrids(m, source, card, result, flags.units, flags.batch))
      files.set(name, png);
    writeAll(flags.out, files);
    if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else
      process.stdout.write(
        `${summaryText(result)}dissect.json, summary.png and ${[...files.keys()].filter((f) => f.endsWith('.units.png')).length} unit grids → ${flags.out}\n`,
      );
  } finally {
    await m.release();
  }
}

export function addDissectCommands(program: Command): void {
  const dissectCommand = withCardFlags(
    program
      .command('dissect')
      .description(
        'network dissection: label every unit of conv layers with the concept its top-quantile region overlaps most (IoU)',
      )
      .option('-m, --model <model>', 'ONNX file or shipped model name', 'shapes-gap')
      .option(
        '-d, --data <data>',
        `${SHAPES_CONCEPTS} or a concept folder (concepts.json, images/, labels/ or masks/)`,
        SHAPES_CONCEPTS,
      )
      .option('--images <n>', `images of ${SHAPES_CONCEPTS}`, parsePositiveInt, 2000)
      .option('--layers <list>', 'comma-separated layers (default: every activation after a conv)')
      .option(
        '--quantile <q>',
        "top quantile of each unit's activations that sets its threshold",
        parseFraction('quantile', true),
        DEFAULT_QUANTILE,
      )
      .option(
        '--iou <t>',
        'label a unit when its best IoU exceeds this',
        parseFraction('iou', false),
        DEFAULT_IOU,
      )
      .option('--batch <n>', 'images per forward pass', parsePositiveInt, 64)
      .option(
        '--range <start:end>',
        'count images [start, end) only (a shard; merge shards with merge-dissections)',
        parseRange,
      )
      .option('--resume', 'continue the state in --out where it stopped')
      .option('--units <n>', 'labelled units shown per layer grid', parsePositiveInt, 24)
      .option('-o, --out <dir>', 'output folder', 'dissect')
      .option(
        '--reinit <seed>',
        'dissect a randomly re-initialised copy (He-normal weights): the baseline',
        parseNonNegativeInt,
      )
      .option('--list-concepts', 'list the data’s concept categories and concepts, and exit')
      .option('--json', 'print the result as JSON')
      .option('-q, --quiet', 'no progress output'),
  );
  withShardingFlags(dissectCommand).action(runDissect);

  program
    .command('merge-dissections')
    .description('merge the states of disjoint shards of one dissection; then finish with dissect --resume')
    .argument('<states...>', `shard states (${STATE_FILE} files or their folders)`)
    .requiredOption('-o, --out <dir>', 'folder for the merged state')
    .action((inputs: string[], flags: { out: string }) => {
      const files = inputs.map((f) => (existsSync(join(f, STATE_FILE)) ? join(f, STATE_FILE) : f));
      for (const f of files) if (!existsSync(f)) throw new Error(`dissection state "${f}" does not exist`);
      const merged = mergeStates(files.map(readState));
      const target = join(flags.out, STATE_FILE);
      if (existsSync(target)) throw new Error(`"${target}" exists; choose another --out`);
      writeAll(flags.out, new Map([[STATE_FILE, serializeState(merged)]]));
      process.stdout.write(
        `merged ${files.length} shards: ${countedImages(merged)}/${merged.data.length} images → ${target}; finish with dissect --resume --out ${flags.out} (same flags)\n`,
      );
    });
}
