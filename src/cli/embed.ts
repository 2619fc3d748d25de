/** `convlens embed`: features of a dataset, nearest neighbours in feature vs pixel space, PCA, t-SNE and UMAP. */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import sharp from 'sharp';
import { encodeNpy } from '../data/npy.js';
import { normalizeSample } from '../data/preprocess.js';
import { knnAccuracy, METRICS, type Metric, nearestNeighbours, neighboursOf } from '../maths/neighbours.js';
import { pca } from '../maths/pca.js';
import { tsne } from '../maths/tsne.js';
import { umap } from '../maths/umap.js';
import { extractFeatures } from '../methods/inspect/features.js';
import { type ScatterPoint, scatterSpec } from '../render/charts.js';
import { embedPageHtml } from '../render/embedPage.js';
import type { GridRow } from '../render/grid.js';
import { type RgbImage, rgbFromPlanar } from '../render/image.js';
import { chartPng, gridPng } from '../render/node.js';
import {
  type CardFlags,
  cardFor,
  parseNonNegativeInt,
  parsePositive,
  parsePositiveInt,
  resolveModel,
  stepProgress,
  withCardFlags,
  writeAll,
} from './common.js';
import { embedJobOptions, embedKind, featureSet } from './embedJob.js';
import { probeExplainer } from './inspect.js';
import { openModel } from './runtime.js';
import { SPLITS, scanData, spreadIndices } from './scan.js';
import { isSharded, runShardedVerb, type ShardingFlags, withShardingFlags } from './sharding.js';

export const EMBEDDINGS = ['pca', 'tsne', 'umap'] as const;
type Embedding = (typeof EMBEDDINGS)[number];

interface EmbedFlags extends CardFlags, ShardingFlags {
  model: string;
  data?: string;
  split: string;
  layer?: string;
  limit: number;
  methods: string;
  metric: Metric;
  k: number;
  queries?: number[];
  perplexity?: number;
  iterations: number;
  neighbours: number;
  seed: number;
  batch: number;
  out: string;
  json?: boolean;
  quiet?: boolean;
}

function parseIndices(value: string): number[] {
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (parts.some((p) => !Number.isInteger(p) || p < 0))
    throw new InvalidArgumentError(`expected comma-separated sample numbers, got "${value}"`);
  return parts;
}

/** The text of vega's browser build, to inline in pages. */
function vegaBrowserBuild(): string {
  const entry = createRequire(import.meta.url).resolve('vega');
  return readFileSync(join(dirname(entry), 'vega.min.js'), 'utf8');
}

export function addEmbedCommands(program: Command): void {
  const embedCommand = withCardFlags(
    program
      .command('embed')
      .description(
        'feature vectors of a dataset: nearest neighbours in feature vs pixel space, PCA, t-SNE and UMAP maps (PNG, .npy, interactive HTML)',
      )
      .option('-m, --model <model>', 'ONNX file or shipped model name', 'digits-gap')
      .option('-d, --data <data>', "mnist, shapes or an image folder (default: the model card's dataset)")
      .addOption(
        new Option('--split <split>', 'split of a built-in dataset').choices([...SPLITS]).default('test'),
      )
      .option('-l, --layer <tensor>', 'layer (default: the last feature map before the head, average-pooled)')
      .option('--limit <n>', 'samples, spread evenly over the data', parsePositiveInt, 2000)
      .option('--methods <list>', `embeddings: ${EMBEDDINGS.join(', ')}`, EMBEDDINGS.join(','))
      .addOption(
        new Option('--metric <m>', 'distance for neighbours').choices([...METRICS]).default('cosine'),
      )
      .option('-k, --k <n>', 'neighbours shown per query', parsePositiveInt, 8)
      .option(
        '--queries <list>',
        'sample numbers to show neighbours of (default: one per class, up to 6)',
        parseIndices,
      )
      .option('--perplexity <p>', 't-SNE perplexity (default min(30, (n − 1) / 3))', parsePositive)
      .option('--iterations <n>', 't-SNE iterations', parsePositiveInt, 1000)
      .option('--neighbours <n>', 'UMAP neighbours', parsePositiveInt, 15)
      .option('--seed <n>', 'seed of t-SNE and UMAP', parseNonNegativeInt, 1)
      .option('--batch <n>', 'images per forward pass', parsePositiveInt, 64)
      .option('-o, --out <dir>', 'output folder', 'embedding')
      .option('--json', 'print JSON')
      .option('-q, --quiet', 'no progress output'),
  );
  withShardingFlags(embedCommand).action(async (flags: EmbedFlags) => {
    const methods = flags.methods.split(',').map((s) => s.trim()) as Embedding[];
    const unknown = methods.find((m) => !EMBEDDINGS.includes(m));
    if (unknown) throw new Error(`--methods: "${unknown}" is not one of ${EMBEDDINGS.join(', ')}`);
    const { model } = resolveModel(flags.model);
    const card = cardFor(model, flags);
    const p = card.preprocessing;
    const vegaScript = vegaBrowserBuild();
    const dataSpec = flags.data ?? card.dataset ?? 'shapes';
    const data = await scanData(dataSpec, flags.split, p);
    const indices = spreadIndices(data.source.length, flags.limit);
    if (indices.length < 5)
      throw new Error(`"${dataSpec}" has ${indices.length} images; embed needs at least 5`);
    const inputShape = [p.channels, ...p.size];
    const m = openModel(model, card.preprocessing.layout);
    const progress = stepProgress(!!(flags.quiet || flags.json));
    const timings: Record<string, number> = {};
    const timed = async <T>(name: string, f: () => T | Promise<T>): Promise<T> => {
      const t = performance.now();
      const r = await f();
      timings[name] = Math.round(performance.now() - t);
      return r;
    };
    try {
      const probe = probeExplainer(m, card);
      const layer = flags.layer ?? (await probe.resolveLayer());
      await probe.sampleDims(layer);
      const jobOptions = { ...flags, data: dataSpec, layer, out: undefined, methods: undefined };
      const set = await timed('features', () =>
        isSharded(flags)
          ? runShardedVerb(embedKind, embedJobOptions(jobOptions), flags, {
              checkpoint: () => {},
              what: 'features are not kept',
            }).then(({ result, finished }) => {
              if (!finished) throw new Error('embed was interrupted before every sample had its features');
              return featureSet(result, indices);
            })
          : extractFeatures(m, data.source, {
              layer,
              indices,
              batch: flags.batch,
              inputShape,
              keepImages: true,
              toInput: (s, out, offset) => normalizeSample(s.image, p, out, offset),
              onProgress: ({ done, total }) => progress.onProgress({ method: 'features', done, total }),
            }),
      );
      const { n, d, labels } = set;
      const points = { data: set.features, n, d };
      const classes = data.source.classes;
      const labelName = (l: number) => (l >= 0 ? (classes[l] ?? String(l)) : 'unlabelled');
      const labelled = labels.some((l) => l >= 0);
      const kEval = Math.min(5, n - 1);
      const accuracy: Record<string, number> = {};
      if (labelled) accuracy.features = knnAccuracy(nearestNeighbours(points, kEval, flags.metric), labels);

      const coords: Partial<Record<Embedding, Float64Array>> = {};
      const params: Record<string, unknown> = {};
      let explained: number[] | undefined;
      if (methods.includes('pca')) {
        const r = await timed('pca', () => pca(points, Math.min(2, d)));
        coords.pca = r.projection;
        explained = r.explained;
        params.pca = { explained };
      }
      if (methods.includes('tsne')) {
        // t-SNE on the first 50 principal components when features are wider (the usual practice).
        const input = d > 50 ? { data: pca(points, 50).projection, n, d: 50 } : points;
        const r = await timed('tsne', () =>
          tsne(input, {
            perplexity: flags.perplexity,
            iterations: flags.iterations,
            seed: flags.seed,
            onProgress: ({ iteration, iterations }) =>
              iteration % 10 === 0 &&
              progress.onProgress({ method: 't-SNE', done: iteration, total: iterations }),
          }),
        );
        coords.tsne = r.embedding;
        params.tsne = { ...r.params, kl: r.kl, pcaFirst: d > 50 ? 50 : null };
      }
      if (methods.includes('umap')) {
        const r = await timed('umap', () =>
          umap(points, {
            neighbours: Math.min(flags.neighbours, n - 1),
            seed: flags.seed,
            onProgress: ({ epoch, epochs }) =>
              progress.onProgress({ method: 'UMAP', done: epoch, total: epochs }),
          }),
        );
        coords.umap = r.embedding;
        params.umap = r.params;
      }
      progress.stop();
      for (const [name, c] of Object.entries(coords))
        if (labelled && c)
          accuracy[name] = knnAccuracy(nearestNeighbours({ data: c, n, d: 2 }, kEval), labels);

      // Images: thumbnails for the page, tiles for the neighbour grid.
      const per = set.images!.length / n;
      const image = (i: number): RgbImage =>
        rgbFromPlanar(
          Float32Array.from(set.images!.subarray(i * per, (i + 1) * per), (v) => v / 255),
          p.channels,
          p.size[0],
          p.size[1],
        );
      const queries = flags.queries ?? [...new Set(labels)].slice(0, 6).map((l) => labels.indexOf(l));
      const badQuery = queries.find((q) => q >= n);
      if (badQuery !== undefined) throw new Error(`--queries: sample ${badQuery} is out of range 0-${n - 1}`);
      const k = Math.min(flags.k, n - 1);
      const pixels = { data: Float32Array.from(set.images!, (v) => v / 255), n, d: per };
      const inFeatures = neighboursOf(points, queries, k, flags.metric);
      const inPixels = neighboursOf(pixels, queries, k, flags.metric);
      const agree = (lists: number[][]) =>
        lists.reduce((s, list, q) => s + list.filter((j) => labels[j] === labels[queries[q]]).length, 0) /
        (lists.length * k);
      const rows: GridRow[] = queries.flatMap((q, i) =>
        (
          [
            ['features', inFeatures[i]],
            ['pixels', inPixels[i]],
          ] as const
        ).map(([space, list]) => ({
          label: `#${q} · ${space}`,
          cells: [
            { image: image(q), caption: 'query' },
            ...list.map((j) => ({ image: image(j), caption: `#${j} ${labelName(labels[j])}` })),
          ],
        })),
      );

      const files = new Map<string, Uint8Array | string>();
      files.set('features.npy', encodeNpy(set.features, [n, d]));
      files.set(
        'neighbours.png',
        await gridPng(rows, {
          cell: 72,
          title: `${k} nearest (${flags.metric}) by ${layer} activations vs by pixels`,
          headers: ['query', ...Array.from({ length: k }, (_, j) => `${j + 1}`)],
        }),
      );
      const names: Record<Embedding, string> = { pca: 'PCA', tsne: 't-SNE', umap: 'UMAP' };
      const thumbnails = await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const img = image(i);
          const side = Math.min(48, Math.max(img.width, img.height));
          const bytes = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
            .resize(side, side, { fit: 'inside', kernel: 'nearest' })
            .png()
            .toBuffer();
          return `data:image/png;base64,${bytes.toString('base64')}`;
        }),
      );
      const charts = [];
      for (const [name, c] of Object.entries(coords) as [Embedding, Float64Array][]) {
        const pts: ScatterPoint[] = Array.from({ length: n }, (_, i) => ({
          x: c[2 * i],
          y: c[2 * i + 1],
          label: labelName(labels[i]),
          name: `#${i} (${dataSpec} ${flags.split === 'test' || data.split === 'all' ? '' : `${flags.split} `}${indices[i]})`,
        }));
        const acc =
          accuracy[name] !== undefined ? ` · ${kEval}-NN accuracy ${(100 * accuracy[name]).toFixed(1)}%` : '';
        const title = `${names[name]} of ${layer}${acc}`;
        files.set(`${name}.npy`, encodeNpy(Float32Array.from(c), [n, 2]));
        files.set(`${name}.png`, await chartPng(scatterSpec(pts, { title })));
        charts.push({
          name: title,
          spec: scatterSpec(
            pts.map((pt, i) => ({ ...pt, index: i })),
            { title },
          ),
        });
      }
      const record = {
        model: flags.model,
        data: { spec: dataSpec, split: data.split, indices },
        layer,
        pooled: set.pooled,
        dims: d,
        metric: flags.metric,
        knnAccuracy: { k: kEval, ...accuracy },
        neighbours: {
          queries,
          features: inFeatures,
          pixels: inPixels,
          sameClass: labelled ? { features: agree(inFeatures), pixels: agree(inPixels) } : undefined,
        },
        params,
        ms: timings,
        labels,
      };
      files.set(
        'embed.html',
        embedPageHtml(
          {
            title: `${card.name}: ${n} ${dataSpec} images at layer ${layer}`,
            facts: [
              ['model', flags.model],
              ['layer', `${layer} (${d} values${set.pooled ? ', average-pooled' : ''})`],
              ['data', `${dataSpec} / ${data.split}, ${n} samples`],
              ...Object.entries(accuracy).map(
                ([k2, v]) => [`${kEval}-NN accuracy · ${k2}`, `${(100 * v).toFixed(1)}%`] as [string, string],
              ),
              ...(explained
                ? [
                    [
                      'PCA variance explained',
                      explained.map((v) => `${(100 * v).toFixed(1)}%`).join(', '),
                    ] as [string, string],
                  ]
                : []),
            ],
            charts,
            thumbnails,
          },
          vegaScript,
        ),
      );
      files.set('embedding.json', `${JSON.stringify(record, null, 2)}\n`);
      writeAll(flags.out, files);
      if (flags.json)
        process.stdout.write(
          `${JSON.stringify({ out: flags.out, ...record, labels: undefined }, null, 2)}\n`,
        );
      else {
        process.stdout.write(`${n} ${dataSpec} samples, ${layer} → ${d} features\n`);
        for (const [name, v] of Object.entries(accuracy))
          process.stdout.write(`  ${kEval}-NN accuracy in ${name.padEnd(9)}${(100 * v).toFixed(1)}%\n`);
        if (record.neighbours.sameClass)
          process.stdout.write(
            `  neighbours of the same class: features ${(100 * record.neighbours.sameClass.features).toFixed(0)}%, pixels ${(100 * record.neighbours.sameClass.pixels).toFixed(0)}%\n`,
          );
        process.stdout.write(
          `wrote ${files.size} files to ${join(flags.out)} (open embed.html in a browser)\n`,
        );
      }
    } finally {
      progress.stop();
      await m.release();
    }
  });
}
