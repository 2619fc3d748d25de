/**
 * `embed`'s feature extraction as a sharded dataset job: shards are ranges of the spread sample
 * list, each returning its rows of features, labels and pixels; the embeddings run on the
 * coordinator over the merged rows.
 */
import { createHash } from 'node:crypto';
import type { Preprocessing } from '../data/preprocess.js';
import { normalizeSample } from '../data/preprocess.js';
import { type JobOptions, jobOptions, type ShardKind } from '../jobs/kind.js';
import { localModelHash } from '../jobs/modelHash.js';
import { openPool } from '../jobs/openPool.js';
import { imageCount, overlaps, type Shard } from '../jobs/shards.js';
import { extractFeatures, type FeatureSet } from '../methods/inspect/features.js';
import { addInterval } from '../methods/inspect/scan.js';
import { type CardFlags, cardFor, resolveModel } from './common.js';
import { openModel } from './runtime.js';
import { scanData, spreadIndices } from './scan.js';

export const FEATURE_ROWS_FORMAT = 'convlens-feature-rows';

/** Rows of features for ranges of an embed job's sample list (little-endian float32 and bytes, base64). */
export interface FeatureRows {
  format: typeof FEATURE_ROWS_FORMAT;
  /** Identifies the job: model bytes, data, layer and sample list. */
  job: string;
  covered: Shard[];
  chunks: { start: number; d: number; pooled: boolean; features: string; labels: number[]; images: string }[];
}

/** What defines an embed job's features: the model (file or name), data, layer, sample count, preprocessing. */
export interface EmbedJobOptions {
  model: string;
  data: string;
  split: string;
  layer: string;
  limit: number;
  batch: number;
  [card: string]: unknown;
}

const toBase64 = (a: Float32Array | Uint8Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const floats = (b64: string) => {
  const bytes = Buffer.from(b64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};

/** The job's data, sample list and identity (no session opened). */
async function embedJob(options: JobOptions) {
  const o = options as unknown as EmbedJobOptions;
  const { model } = resolveModel(o.model);
  const card = cardFor(model, o as CardFlags);
  const data = await scanData(o.data, o.split, card.preprocessing);
  const indices = spreadIndices(data.source.length, o.limit);
  const job = createHash('sha256')
    .update(
      JSON.stringify([
        localModelHash(o.model),
        data.fingerprint,
        o.layer,
        indices.length,
        card.preprocessing,
      ]),
    )
    .digest('hex');
  return { model, p: card.preprocessing as Preprocessing, data, indices, job };
}

const opened = openPool(
  async (options) => {
    const j = await embedJob(options);
    return { ...j, m: openModel(j.model, j.p.layout) };
  },
  (o) => o.m.release(),
);

/** The merged rows as one feature set, in sample-list order. */
export function featureSet(rows: FeatureRows, indices: number[]): FeatureSet {
  const chunks = [...rows.chunks].sort((a, b) => a.start - b.start);
  if (imageCount(rows.covered) !== indices.length || chunks.length === 0)
    throw new Error(`the feature rows cover ${imageCount(rows.covered)} of ${indices.length} samples`);
  const { d, pooled } = chunks[0];
  const parts = chunks.map((c) => floats(c.features));
  const pixels = chunks.map((c) => Buffer.from(c.images, 'base64'));
  const features = new Float32Array(indices.length * d);
  const images = new Uint8Array(pixels.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const [i, c] of chunks.entries()) {
    features.set(parts[i], c.start * d);
    images.set(pixels[i], at);
    at += pixels[i].length;
  }
  return { features, n: indices.length, d, pooled, labels: chunks.flatMap((c) => c.labels), indices, images };
}

export const embedKind: ShardKind<FeatureRows> = {
  name: 'embed',
  async open(options) {
    const { indices, job } = await embedJob(options);
    return {
      length: indices.length,
      fresh: { format: FEATURE_ROWS_FORMAT, job, covered: [], chunks: [] },
      sha256: localModelHash(options.model),
    };
  },
  run(options, [start, end]) {
    const o = options as unknown as EmbedJobOptions;
    return opened.use(options, async ({ m, p, data, indices, job }) => {
      const set = await extractFeatures(m, data.source, {
        layer: o.layer,
        indices: indices.slice(start, end),
        batch: o.batch,
        inputShape: [p.channels, ...p.size],
        keepImages: true,
        toInput: (s, out, offset) => normalizeSample(s.image, p, out, offset),
      });
      return {
        format: FEATURE_ROWS_FORMAT,
        job,
        covered: [[start, end]],
        chunks: [
          {
            start,
            d: set.d,
            pooled: set.pooled,
            features: toBase64(set.features),
            labels: set.labels,
            images: toBase64(set.images!),
          },
        ],
      };
    });
  },
  merge(a, b) {
    if (a.job !== b.job)
      throw new Error('the feature rows belong to different embed jobs (model, data or layer differ)');
    let covered = a.covered;
    for (const s of b.covered) {
      if (overlaps(covered, s)) throw new Error(`the feature rows overlap on samples ${s[0]}:${s[1]}`);
      covered = addInterval(covered, s[0], s[1]);
    }
    return { ...a, covered, chunks: [...a.chunks, ...b.chunks].sort((x, y) => x.start - y.start) };
  },
  covered: (rows) => rows.covered,
  serialize: (rows) => JSON.stringify(rows),
  parse(text, source) {
    const rows = JSON.parse(text) as FeatureRows;
    if (rows?.format !== FEATURE_ROWS_FORMAT || !Array.isArray(rows.covered) || !Array.isArray(rows.chunks))
      throw new Error(`${source} is not a convlens feature-rows result`);
    return rows;
  },
};

/** The embed flags that define its features (not the embeddings, which run on the coordinator). */
export const embedJobOptions = (flags: Record<string, unknown>) =>
  jobOptions(flags, ['model', 'data', 'split', 'layer', 'limit', 'batch']);
