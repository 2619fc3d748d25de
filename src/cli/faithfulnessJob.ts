/**
 * `faithfulness` as a sharded dataset job: a shard measures every metric on its range of the
 * samples (random streams keyed by each sample's index in the whole list), returns the numbers per
 * sample, and the coordinator joins them in order and takes the means, so the report equals one
 * process's.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { ModelCard } from '../data/card.js';
import { decodeNpy } from '../data/npy.js';
import { type JobOptions, jobOptions, type ShardKind } from '../jobs/kind.js';
import { localModelHash } from '../jobs/modelHash.js';
import { openPool } from '../jobs/openPool.js';
import { imageCount, overlaps, type Shard } from '../jobs/shards.js';
import { Explainer, type ExplainerOptions } from '../methods/attribution/pipeline.js';
import { parseTarget } from '../methods/attribution/target.js';
import {
  concatFaithfulnessMeasures,
  type FaithfulnessMeasures,
  type FaithfulnessRequest,
  measureFaithfulness,
  parseMetrics,
  type Substrate,
} from '../methods/evaluation/index.js';
import type { ChannelReduction } from '../methods/evaluation/planes.js';
import { addInterval } from '../methods/inspect/scan.js';
import { toLayout } from '../onnx/layout.js';
import { decodeModel, encodeModel, type Model } from '../onnx/model.js';
import { cardFor, resolveModel } from './common.js';
import { inputsFrom, type SampleFlags } from './explain.js';
import type { ExplainInputs } from './inputs.js';
import { openModel } from './runtime.js';

/** The flags that define a faithfulness evaluation (what `faithfulness` parses). */
export interface FaithfulnessJobFlags extends Omit<SampleFlags, 'method'> {
  methods: string;
  metrics: string;
  target: string;
  layer?: string;
  score: string;
  step: number;
  deletionSubstrate: string;
  insertionSubstrate: string;
  confidenceSubstrate: string;
  roadFractions: number[];
  roadNoise: number;
  tolerance?: number;
  maps?: string[];
  reduce: string;
  batch: number;
  seed: number;
  /** The shuffled-label model of the data randomisation test, ONNX bytes in base64 (jobs only). */
  shuffledModel?: string;
}

const JOB_KEYS = [
  'model',
  'image',
  'inputNpy',
  'data',
  'count',
  'methods',
  'metrics',
  'target',
  'layer',
  'score',
  'step',
  'deletionSubstrate',
  'insertionSubstrate',
  'confidenceSubstrate',
  'roadFractions',
  'roadNoise',
  'tolerance',
  'maps',
  'reduce',
  'batch',
  'seed',
  'shuffledModel',
] as const;

/** The job options of the flags, with the shuffled-label model (when the test asks for one) inlined. */
export function faithfulnessJobOptions(flags: FaithfulnessJobFlags, shuffled?: Model): JobOptions {
  const options = jobOptions(flags, JOB_KEYS);
  if (shuffled) options.shuffledModel = Buffer.from(encodeModel(shuffled).bytes).toString('base64');
  return options;
}

const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Maps from .npy files, named by their stems: (N, H, W) or (N, C, H, W) in the model's layout. */
function externalMaps(files: string[], card: ModelCard, n: number, reduce: ChannelReduction) {
  return files.map((file) => {
    if (!existsSync(file)) throw new Error(`--maps "${file}" does not exist`);
    const arr = decodeNpy(readFileSync(file), `"${file}"`);
    if (arr.dtype !== 'float32' && arr.dtype !== 'float64')
      throw new Error(`"${file}": dtype ${arr.dtype}; --maps takes float32 or float64 maps`);
    if (arr.shape.length !== 3 && arr.shape.length !== 4)
      throw new Error(`"${file}": shape (${arr.shape.join(', ')}); --maps takes (N, H, W) or (N, C, H, W)`);
    if (arr.shape[0] !== n)
      throw new Error(`"${file}": ${arr.shape[0]} maps for ${n} images; give one map per image, in order`);
    const data = Float32Array.from(arr.data as ArrayLike<number>);
    const nchw =
      arr.shape.length === 4 && card.preprocessing.layout === 'nhwc'
        ? toLayout({ dtype: 'float32', dims: arr.shape, data }, 'nchw')
        : { dims: arr.shape, data };
    return { name: basename(file, extname(file)), data: nchw.data as Float32Array, dims: nchw.dims, reduce };
  });
}

/** The explainer options a card gives (logits, classes, feature map) with the run's batch and seed. */
export const explainerOptions = (card: ModelCard, batch?: number, seed?: number): ExplainerOptions => ({
  logits: card.tensors?.logits,
  classes: card.classes,
  features: card.tensors?.features,
  batch,
  seed,
});

/**
 * Everything a faithfulness evaluation needs before it runs, checked: the model, its card, the
 * samples, maps made elsewhere and the request (without the shuffled-label model). `checkCard`
 * runs on the model's card before any sample is read.
 */
export async function openFaithfulness(flags: FaithfulnessJobFlags, checkCard?: (card: ModelCard) => void) {
  const metrics = list(flags.metrics);
  parseMetrics(metrics);
  const { model } = resolveModel(flags.model);
  const card = cardFor(model, flags);
  checkCard?.(card);
  const target = parseTarget(flags.target, card.classes);
  const inputs = await inputsFrom(flags, card, card.dataset);
  const external = flags.maps
    ? externalMaps(flags.maps, card, inputs.stems.length, flags.reduce as ChannelReduction)
    : [];
  const request: FaithfulnessRequest = {
    methods: list(flags.methods),
    metrics,
    target,
    layer: flags.layer,
    score: flags.score as FaithfulnessRequest['score'],
    deletion: { step: flags.step, substrate: flags.deletionSubstrate as Substrate },
    insertion: { step: flags.step, substrate: flags.insertionSubstrate as Substrate },
    confidence: { substrate: flags.confidenceSubstrate as Substrate },
    road: { fractions: flags.roadFractions, noise: flags.roadNoise },
    tolerance: flags.tolerance,
    external,
    seed: flags.seed,
  };
  return { model, card, inputs, request };
}

export const MEASURES_FORMAT = 'convlens-faithfulness-measures';

/** Per-sample measures of ranges of a faithfulness job's samples. */
export interface FaithfulnessParts {
  format: typeof MEASURES_FORMAT;
  /** Identifies the job: model bytes, samples and every option. */
  job: string;
  covered: Shard[];
  chunks: { start: number; measures: FaithfulnessMeasures }[];
}

/** The job's identity: its options with the model's content hash and the samples' sources. */
function jobId(options: JobOptions, inputs: ExplainInputs): string {
  return createHash('sha256')
    .update(JSON.stringify([localModelHash(options.model), options, inputs.sources]))
    .digest('hex');
}

const opened = openPool(
  async (options) => {
    const flags = options as unknown as FaithfulnessJobFlags;
    const job = await openFaithfulness(flags);
    const layout = job.card.preprocessing.layout;
    const shuffled = flags.shuffledModel
      ? openModel(decodeModel(Buffer.from(flags.shuffledModel, 'base64')), layout)
      : undefined;
    return { ...job, id: jobId(options, job.inputs), m: openModel(job.model, layout), shuffled };
  },
  async (o) => {
    await o.m.release();
    await o.shuffled?.release();
  },
);

/** Samples [start, end) of a batch of `n` (rows of a [N, …] array). */
function rows(data: Float32Array, n: number, [start, end]: Shard): Float32Array {
  const per = data.length / n;
  return data.subarray(start * per, end * per);
}

/** The merged parts as one set of measures over every sample, in order. */
export function joinedMeasures(parts: FaithfulnessParts, samples: number): FaithfulnessMeasures {
  if (imageCount(parts.covered) !== samples)
    throw new Error(`the faithfulness measures cover ${imageCount(parts.covered)} of ${samples} samples`);
  return concatFaithfulnessMeasures(
    [...parts.chunks].sort((a, b) => a.start - b.start).map((c) => c.measures),
  );
}

// JSON has no NaN (a sample without a mask in the pointing games): it travels as null in arrays.
const revive = (key: string, value: unknown) => (value === null && /^\d+$/.test(key) ? Number.NaN : value);

export const faithfulnessKind: ShardKind<FaithfulnessParts> = {
  name: 'faithfulness',
  async open(options) {
    const flags = options as unknown as FaithfulnessJobFlags;
    const { inputs } = await openFaithfulness(flags);
    return {
      length: inputs.stems.length,
      fresh: { format: MEASURES_FORMAT, job: jobId(options, inputs), covered: [], chunks: [] },
      sha256: localModelHash(options.model),
    };
  },
  run(options, shard) {
    const flags = options as unknown as FaithfulnessJobFlags;
    return opened.use(options, async ({ card, inputs, request, id, m, shuffled }) => {
      const n = inputs.stems.length;
      const [start, end] = shard;
      const [, ...rest] = inputs.input.dims;
      const input = {
        dtype: 'float32' as const,
        dims: [end - start, ...rest],
        data: rows(inputs.input.data as Float32Array, n, shard),
      };
      const explainer = new Explainer(m, input, {
        ...explainerOptions(card, flags.batch, flags.seed),
        firstSample: start,
      });
      const measures = await measureFaithfulness(explainer, {
        ...request,
        external: request.external?.map((e) => ({
          ...e,
          data: rows(e.data, n, shard),
          dims: [end - start, ...e.dims.slice(1)],
        })),
        masks: inputs.masks?.slice(start, end),
        masksInBatch: inputs.masks?.some((mask) => mask?.some((v) => v > 0)) ?? false,
        dataRandomized: shuffled,
      });
      return { format: MEASURES_FORMAT, job: id, covered: [shard], chunks: [{ start, measures }] };
    });
  },
  merge(a, b) {
    if (a.job !== b.job)
      throw new Error(
        'the faithfulness measures belong to different jobs (model, samples or options differ)',
      );
    let covered = a.covered;
    for (const s of b.covered) {
      if (overlaps(covered, s))
        throw new Error(`the faithfulness measures overlap on samples ${s[0]}:${s[1]}`);
      covered = addInterval(covered, s[0], s[1]);
    }
    return { ...a, covered, chunks: [...a.chunks, ...b.chunks].sort((x, y) => x.start - y.start) };
  },
  covered: (parts) => parts.covered,
  serialize: (parts) => JSON.stringify(parts),
  parse(text, source) {
    const parts = JSON.parse(text, revive) as FaithfulnessParts;
    if (parts?.format !== MEASURES_FORMAT || !Array.isArray(parts.covered) || !Array.isArray(parts.chunks))
      throw new Error(`${source} is not a convlens faithfulness-measures result`);
    return parts;
  },
};
