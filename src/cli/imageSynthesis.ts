/** `convlens dream`, `invert`, `texture` and `style`: images made from a network's features. */

import type { Command } from 'commander';
import type { ModelCard } from '../data/card.js';
import { decodeImageFit } from '../data/node.js';
import { encodeNpy } from '../data/npy.js';
import type { Preprocessing } from '../data/preprocess.js';
import { dream } from '../methods/synthesis/dream.js';
import { invert } from '../methods/synthesis/invert.js';
import { OBJECTIVE_SYNTAX, parseObjective } from '../methods/synthesis/objective.js';
import { randomFeatureNetwork } from '../methods/synthesis/randomFeatures.js';
import type { SynthesisResult } from '../methods/synthesis/synthesize.js';
import { style, texture } from '../methods/synthesis/texture.js';
import { denormalize, type RgbImage } from '../render/image.js';
import { encodePng, gridPng } from '../render/node.js';
import type { ConvlensModel } from '../runtime/model.js';
import {
  type CardFlags,
  cardFor,
  inputNpy,
  parseNonNegativeInt,
  parseNumbers,
  parsePositive,
  parsePositiveInt,
  resolveModel,
  stepProgress,
  withCardFlags,
  writeAll,
} from './common.js';
import { inputsFrom } from './explain.js';
import { fileSlug, fileStem } from './inspect.js';
import { openModel } from './runtime.js';
import { planarImage, type SynthesisFlags, synthesisOptions, withSynthesisFlags } from './synthesis.js';

export interface FeatureModelFlags extends CardFlags {
  model: string;
  randomFeatures?: boolean;
  rfSizes: number[];
  rfFilters: number;
  seed: number;
}

export interface FeatureModel {
  model: ConvlensModel;
  card: ModelCard;
  /** Spatial ReLU layers in order: the default layers for Gram and inversion terms. */
  layers: string[];
  description: string;
}

/** The feature network: a model file or shipped name, or a random multi-scale one. */
export async function featureModel(flags: FeatureModelFlags): Promise<FeatureModel> {
  if (flags.randomFeatures) {
    const net = randomFeatureNetwork({
      channels: flags.channels === '1' ? 1 : 3,
      sizes: flags.rfSizes,
      filters: flags.rfFilters,
      seed: flags.seed,
    });
    return {
      model: openModel(net.model),
      card: { name: 'random-features', classes: [], preprocessing: net.preprocessing },
      layers: net.layers,
      description: `random features (${flags.rfFilters} filters of sizes ${flags.rfSizes.join(', ')})`,
    };
  }
  const { model } = resolveModel(flags.model);
  const card = cardFor(model, flags);
  const m = openModel(model, card.preprocessing.layout);
  const p = card.preprocessing;
  const all = await m.layers([1, p.channels, ...p.size]);
  const layers = all.filter((l) => l.opType === 'Relu' && l.shape.length === 4).map((l) => l.tensor);
  return { model: m, card, layers, description: flags.model };
}

/** Layers named on the command line, checked against the model. */
async function checkedLayers(
  f: FeatureModel,
  requested: string[] | undefined,
  flag: string,
  spatial = true,
): Promise<string[]> {
  if (!requested) {
    if (f.layers.length === 0)
      throw new Error(`the model has no spatial ReLU layers to default to; give ${flag}`);
    return f.layers;
  }
  const p = f.card.preprocessing;
  const known = (await f.model.layers([1, p.channels, ...p.size])).filter(
    (l) => !spatial || l.shape.length === 4,
  );
  for (const l of requested)
    if (!known.some((k) => k.tensor === l))
      throw new Error(
        `${flag}: "${l}" is not a${spatial ? ' spatial' : ''} layer of the model; ${spatial ? 'spatial ' : ''}layers: ${known.map((k) => k.tensor).join(', ')}`,
      );
  return requested;
}

function withFeatureModelFlags(cmd: Command, defaultModel: string): Command {
  return cmd
    .option('-m, --model <model>', 'ONNX file or shipped model name', defaultModel)
    .option('--random-features', 'use a random multi-scale filter network instead of --model')
    .option('--rf-sizes <list>', 'filter sizes of the random network', parseNumbers, [3, 5, 7, 11])
    .option('--rf-filters <n>', 'filters per size of the random network', parsePositiveInt, 64);
}

/** Grid cell width and height for images of this size, the longer side `side`. */
const cellFor = (size: readonly [number, number], side: number) => ({
  cell: Math.round((side * size[1]) / Math.max(...size)),
  cellHeight: Math.round((side * size[0]) / Math.max(...size)),
});

const traceOf = (r: SynthesisResult) =>
  r.trace.map((t) => ({ step: t.step, objective: t.objective, terms: t.terms }));

function progress(json: boolean | undefined, label: string) {
  const bar = stepProgress(Boolean(json));
  return {
    onStep: (p: { step: number; steps: number }) =>
      bar.onProgress({ method: label, done: p.step + 1, total: p.steps }),
    stop: () => bar.stop(),
  };
}

async function loadImage(path: string, p: Preprocessing, maxSide: number, flag: string) {
  const image = await decodeImageFit(path, p.channels, maxSide).catch((e: Error) => {
    throw new Error(`${flag}: ${e.message}`);
  });
  return { ...image, rgb: planarImage(image.pixels, 0, p.channels, image.size[0], image.size[1]) };
}

/** `name.png`, `name.npy` and any `name.stepK.png` snapshots of a result; returns its image. */
async function addResultFiles(
  files: Map<string, Uint8Array | string>,
  name: string,
  r: SynthesisResult,
): Promise<RgbImage> {
  const [, c, h, w] = r.dims;
  const image = planarImage(r.pixels, 0, c, h, w);
  files.set(`${name}.png`, await encodePng(image));
  files.set(`${name}.npy`, encodeNpy(r.pixels, r.dims));
  for (const s of r.snapshots)
    files.set(`${name}.step${s.step}.png`, await encodePng(planarImage(s.pixels, 0, c, h, w)));
  return image;
}

function report(json: boolean | undefined, summary: unknown, lines: string[], out: string, count: number) {
  if (json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else process.stdout.write(`${lines.join('\n')}\nwrote ${count} files to ${out}\n`);
}

export function addImageSynthesisCommands(program: Command): void {
  withCardFlags(
    withFeatureModelFlags(
      program
        .command('dream')
        .description('DeepDream: amplify what a layer sees in an image, over octaves')
        .requiredOption('-i, --image <file>', 'image to dream on')
        .option('-l, --layer <layer>', "layer whose Σ f² to amplify (default: the card's features layer)")
        .option('-t, --target <objective>', `any objective instead of --layer (${OBJECTIVE_SYNTAX})`)
        .option('--octaves <n>', 'scales, smallest first', parsePositiveInt, 4)
        .option('--octave-scale <r>', 'ratio between scales', parsePositive, 1.4)
        .option('--steps <n>', 'steps per octave', parsePositiveInt, 10)
        .option('--lr <x>', 'L1-normalised step size (pixel units)', parsePositive, 0.01)
        .option('--jitter <px>', 'random roll each step', parsePositiveInt, 4)
        .option('--seed <n>', 'seed of the jitter', parseNonNegativeInt, 1)
        .option('--max-size <px>', 'longer side of the image', parsePositiveInt, 256)
        .option('-o, --out <dir>', 'output folder', 'dreams')
        .option('--json', 'print JSON'),
      'shapes-gap',
    ),
  ).action(
    async (
      flags: FeatureModelFlags & {
        image: string;
        layer?: string;
        target?: string;
        octaves: number;
        octaveScale: number;
        steps: number;
        lr: number;
        jitter: number;
        maxSize: number;
        out: string;
        json?: boolean;
      },
    ) => {
      if (flags.layer && flags.target) throw new Error('give --layer or --target, not both');
      const f = await featureModel(flags);
      try {
        const p = f.card.preprocessing;
        const layer = flags.layer ?? f.card.tensors?.features ?? f.layers.at(-1);
        const text = flags.target ?? `dream:${layer}`;
        const terms = parseObjective(text, f.card.tensors?.logits ?? f.model.outputNames[0]);
        const source = await loadImage(flags.image, p, flags.maxSize, '--image');
        const bar = stepProgress(Boolean(flags.json));
        const r = await dream(f.model, p, source.pixels, source.size, terms, {
          octaves: flags.octaves,
          octaveScale: flags.octaveScale,
          steps: flags.steps,
          lr: flags.lr,
          jitter: flags.jitter,
          seed: flags.seed,
          onStep: (s) =>
            bar.onProgress({
              method: `octave ${s.octave + 1}/${s.octaves}`,
              done: s.step + 1,
              total: s.steps,
            }),
        });
        bar.stop();
        const name = fileStem(flags.image);
        const [h, w] = source.size;
        const image = planarImage(r.pixels, 0, p.channels, h, w);
        const files = new Map<string, Uint8Array | string>();
        files.set(`${name}.dream.png`, await encodePng(image));
        files.set(`${name}.dream.npy`, inputNpy(r.pixels, [1, p.channels, h, w], p.layout));
        files.set(
          'grid.png',
          await gridPng(
            [
              {
                cells: [
                  { image: source.rgb, caption: 'original' },
                  { image, caption: text },
                ],
              },
            ],
            {
              ...cellFor(source.size, 320),
              title: `${f.description}: ${flags.octaves} octaves × ${flags.steps} steps`,
            },
          ),
        );
        const summary = {
          model: f.description,
          image: flags.image,
          objective: text,
          size: source.size,
          params: {
            octaves: flags.octaves,
            octaveScale: flags.octaveScale,
            steps: flags.steps,
            lr: flags.lr,
            jitter: flags.jitter,
            seed: flags.seed,
          },
          octaves: r.octaves,
          png: `${name}.dream.png`,
          ms: Math.round(r.ms),
        };
        files.set('dream.json', `${JSON.stringify(summary, null, 2)}\n`);
        writeAll(flags.out, files);
        report(
          flags.json,
          summary,
          r.octaves.map(
            (o) =>
              `octave ${o.size.join('×').padEnd(9)} ${text}: ${o.objectiveStart.toFixed(3)} → ${o.objectiveEnd.toFixed(3)}`,
          ),
          flags.out,
          files.size,
        );
      } finally {
        await f.model.release();
      }
    },
  );

  withCardFlags(
    withSynthesisFlags(
      withFeatureModelFlags(
        program
          .command('invert')
          .description(
            'feature inversion: images whose features at each layer match an image’s (one column per layer)',
          )
          .option('-i, --image <files...>', 'image files')
          .option(
            '-d, --data <data>',
            "test samples of mnist, shapes or a folder (default: the card's dataset)",
          )
          .option('--count <n>', 'samples with --data', parsePositiveInt, 1)
          .option(
            '-l, --layers <list>',
            'layers to invert (default: every spatial ReLU and the logits)',
            (v) => v.split(','),
          )
          .option('-o, --out <dir>', 'output folder', 'inversions')
          .option('--json', 'print JSON'),
        'digits-gap',
      ),
      { steps: 200, lr: 0.05, jitter: 0, l2: 0, tv: 0.5, blurEvery: 0 },
    ),
  ).action(
    async (
      flags: FeatureModelFlags &
        SynthesisFlags & {
          image?: string[];
          data?: string;
          count: number;
          layers?: string[];
          out: string;
          json?: boolean;
        },
      cmd: Command,
    ) => {
      const f = await featureModel(flags);
      try {
        const p = f.card.preprocessing;
        const [h, w] = p.size;
        const c = p.channels;
        const per = c * h * w;
        const logits = f.card.tensors?.logits;
        const layers = await checkedLayers(
          f,
          flags.layers ?? (logits ? [...f.layers, logits] : undefined),
          '--layers',
          false,
        );
        const inputs = await inputsFrom(
          { image: flags.image, data: flags.data, count: flags.count },
          f.card,
          f.card.dataset ?? (flags.image ? undefined : 'mnist'),
        );
        const options = synthesisOptions(flags, cmd);
        const files = new Map<string, Uint8Array | string>();
        const rows = [];
        const records = [];
        const lines = [];
        for (const [i, s] of inputs.stems.entries()) {
          const pixels = denormalize(
            inputs.input.data.subarray(i * per, (i + 1) * per) as Float32Array,
            c,
            p.mean,
            p.std,
          );
          const bar = progress(flags.json, `invert ${s}`);
          const results = await invert(f.model, p, pixels, layers, { ...options, onStep: bar.onStep });
          bar.stop();
          const cells: { image: RgbImage; caption: string; pixelated: boolean }[] = [
            { image: inputs.images[i], caption: 'original', pixelated: true },
          ];
          const perLayer = [];
          for (const r of results) {
            const name = `${s}.${fileSlug(r.layer)}`;
            let sq = 0;
            for (let j = 0; j < per; j++) sq += (r.result.pixels[j] - pixels[j]) ** 2;
            const pixelRmse = Math.sqrt(sq / per);
            const image = await addResultFiles(files, name, r.result);
            cells.push({
              image,
              caption: `${r.layer} ${(100 * r.relativeError).toFixed(0)}%`,
              pixelated: true,
            });
            perLayer.push({
              layer: r.layer,
              png: `${name}.png`,
              relativeFeatureError: r.relativeError,
              pixelRmse,
              ms: Math.round(r.result.ms),
              trace: traceOf(r.result),
            });
            lines.push(
              `${s} ${r.layer.padEnd(16)} feature error ${(100 * r.relativeError).toFixed(1).padStart(5)}%, pixel RMSE ${pixelRmse.toFixed(3)}`,
            );
          }
          rows.push({ label: s, cells });
          records.push({ source: inputs.sources[i], layers: perLayer });
        }
        files.set(
          'grid.png',
          await gridPng(rows, {
            cell: 112,
            headers: ['original', ...layers],
            title: `${f.description}: inversion, ${flags.steps} steps, TV ${flags.tv}`,
          }),
        );
        const summary = { model: f.description, params: options, results: records };
        files.set('invert.json', `${JSON.stringify(summary, null, 2)}\n`);
        writeAll(flags.out, files);
        report(flags.json, summary, lines, flags.out, files.size);
      } finally {
        await f.model.release();
      }
    },
  );

  withCardFlags(
    withSynthesisFlags(
      withFeatureModelFlags(
        program
          .command('texture')
          .description(
            'texture synthesis: an image (of --size, default 128) with the Gram matrices of a texture at several layers',
          )
          .requiredOption('-i, --image <file>', 'texture image')
          .option('-l, --layers <list>', 'layers whose Grams to match (default: every spatial ReLU)', (v) =>
            v.split(','),
          )
          .option('--weights <list>', 'weight per layer', parseNumbers)
          .option('--source-size <px>', 'longer side the texture is read at', parsePositiveInt, 128)
          .option('-o, --out <dir>', 'output folder', 'textures')
          .option('--json', 'print JSON'),
        'shapes-gap',
      ),
      { steps: 300, lr: 0.05, jitter: 0, l2: 0, tv: 0, blurEvery: 0 },
    ),
  ).action(
    async (
      flags: FeatureModelFlags &
        SynthesisFlags & {
          image: string;
          layers?: string[];
          weights?: number[];
          sourceSize: number;
          out: string;
          json?: boolean;
        },
      cmd: Command,
    ) => {
      const f = await featureModel(flags);
      try {
        const p = f.card.preprocessing;
        const layers = await checkedLayers(f, flags.layers, '--layers');
        const source = await loadImage(flags.image, p, flags.sourceSize, '--image');
        const options = synthesisOptions(flags, cmd);
        const bar = progress(flags.json, 'texture');
        // --size (a card flag: the network input's size) is the synthesised image's size here.
        const size: [number, number] = flags.size ? [flags.size[0], flags.size[1]] : [128, 128];
        const r = await texture(f.model, p, source, layers, {
          ...options,
          size,
          weights: flags.weights,
          onStep: bar.onStep,
        });
        bar.stop();
        const name = `${fileStem(flags.image)}.texture`;
        const files = new Map<string, Uint8Array | string>();
        const image = await addResultFiles(files, name, r);
        files.set(
          'grid.png',
          await gridPng(
            [
              {
                cells: [
                  { image: source.rgb, caption: 'source' },
                  { image, caption: 'synthesised' },
                ],
              },
            ],
            {
              cell: 192,
              title: `${f.description}: Grams of ${layers.join(', ')}`,
            },
          ),
        );
        const first = r.trace[0].terms;
        const last = r.trace.at(-1)!.terms;
        const perLayer = layers.map((layer, k) => ({
          layer,
          gramLossStart: -first[k],
          gramLossEnd: -last[k],
        }));
        const summary = {
          model: f.description,
          image: flags.image,
          size,
          layers: perLayer,
          params: options,
          png: `${name}.png`,
          ms: Math.round(r.ms),
          trace: traceOf(r),
        };
        files.set('texture.json', `${JSON.stringify(summary, null, 2)}\n`);
        writeAll(flags.out, files);
        report(
          flags.json,
          summary,
          perLayer.map(
            (l) =>
              `${l.layer.padEnd(16)} Gram loss ${l.gramLossStart.toFixed(4)} → ${l.gramLossEnd.toFixed(4)} (${(100 * (1 - l.gramLossEnd / l.gramLossStart)).toFixed(1)}% lower)`,
          ),
          flags.out,
          files.size,
        );
      } finally {
        await f.model.release();
      }
    },
  );

  withCardFlags(
    withSynthesisFlags(
      withFeatureModelFlags(
        program
          .command('style')
          .description(
            'style transfer: the content image’s features at one layer with the style image’s Grams',
          )
          // Checked in the action: required options would also bind the `style train` subcommand.
          .option('--content <file>', 'content image (required)')
          .option('--style <file>', 'style image (required)')
          .option(
            '--content-layer <layer>',
            'layer whose features to keep (default: the middle spatial ReLU)',
          )
          .option('--style-layers <list>', 'layers whose Grams to match (default: every spatial ReLU)', (v) =>
            v.split(','),
          )
          .option('--weights <c,s>', 'content weight, style weight (per style layer)', parseNumbers, [1, 10])
          .option(
            '--max-size <px>',
            'longer side of the content image (the result’s size)',
            parsePositiveInt,
            128,
          )
          .option('--from <start>', 'start from the content image or noise', 'content')
          .option('-o, --out <dir>', 'output folder', 'styles')
          .option('--json', 'print JSON'),
        'shapes-gap',
      ),
      { steps: 300, lr: 0.02, jitter: 0, l2: 0, tv: 0.1, blurEvery: 0 },
    ),
  ).action(
    async (
      flags: FeatureModelFlags &
        SynthesisFlags & {
          content: string;
          style: string;
          contentLayer?: string;
          styleLayers?: string[];
          weights: number[];
          maxSize: number;
          from: string;
          out: string;
          json?: boolean;
        },
      cmd: Command,
    ) => {
      for (const flag of ['content', 'style'] as const)
        if (!flags[flag])
          throw new Error(
            `give --${flag} IMAGE (optimisation-based style transfer needs --content and --style; \`style train\` trains a feed-forward network)`,
          );
      if (flags.weights.length !== 2 || flags.weights.some((v) => !(v >= 0)))
        throw new Error(`--weights takes two numbers ≥ 0 (content, style), got ${flags.weights.join(',')}`);
      if (!['content', 'noise'].includes(flags.from))
        throw new Error(`--from must be content or noise, got "${flags.from}"`);
      const f = await featureModel(flags);
      try {
        const p = f.card.preprocessing;
        const styleLayers = await checkedLayers(f, flags.styleLayers, '--style-layers');
        const [contentLayer] = await checkedLayers(
          f,
          [flags.contentLayer ?? f.layers[Math.floor(f.layers.length / 2)]],
          '--content-layer',
        );
        const content = await loadImage(flags.content, p, flags.maxSize, '--content');
        const styleImage = await loadImage(flags.style, p, flags.maxSize, '--style');
        const options = synthesisOptions(flags, cmd);
        const bar = progress(flags.json, 'style');
        const r = await style(f.model, p, content, styleImage, {
          ...options,
          init: flags.from === 'noise' ? 'noise' : undefined,
          contentLayer,
          styleLayers,
          contentWeight: flags.weights[0],
          styleWeights: [flags.weights[1]],
          onStep: bar.onStep,
        });
        bar.stop();
        const name = `${fileStem(flags.content)}.${fileStem(flags.style)}.style`;
        const files = new Map<string, Uint8Array | string>();
        const image = await addResultFiles(files, name, r);
        files.set(
          'grid.png',
          await gridPng(
            [
              {
                cells: [
                  { image: content.rgb, caption: 'content' },
                  { image: styleImage.rgb, caption: 'style' },
                  { image, caption: 'result' },
                ],
              },
            ],
            {
              ...cellFor(content.size, 224),
              title: `${f.description}: content ${contentLayer}, style ${styleLayers.join(', ')}`,
            },
          ),
        );
        const [first, last] = [r.trace[0].terms, r.trace.at(-1)!.terms];
        const terms = [contentLayer, ...styleLayers].map((layer, k) => ({
          term: k === 0 ? `content:${layer}` : `style:${layer}`,
          lossStart: -first[k],
          lossEnd: -last[k],
        }));
        const summary = {
          model: f.description,
          content: flags.content,
          style: flags.style,
          size: content.size,
          contentLayer,
          styleLayers,
          weights: { content: flags.weights[0], style: flags.weights[1] },
          terms,
          params: options,
          png: `${name}.png`,
          ms: Math.round(r.ms),
          trace: traceOf(r),
        };
        files.set('style.json', `${JSON.stringify(summary, null, 2)}\n`);
        writeAll(flags.out, files);
        report(
          flags.json,
          summary,
          terms.map((t) => `${t.term.padEnd(22)} loss ${t.lossStart.toFixed(4)} → ${t.lossEnd.toFixed(4)}`),
          flags.out,
          files.size,
        );
      } finally {
        await f.model.release();
      }
    },
  );
}
