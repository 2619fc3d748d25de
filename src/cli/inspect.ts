/** `convlens filters`, `activations`, `scan`, `patches`, `channels` and `embed`: what a network learned. */

import { basename, dirname, extname, join } from 'node:path';
import { type Command, Option } from 'commander';
import type { ModelCard } from '../data/card.js';
import { encodeNpy } from '../data/npy.js';
import { Explainer } from '../methods/attribution/pipeline.js';
import { channelStats } from '../methods/inspect/activations.js';
import { filterWeights, findConvLayer } from '../methods/inspect/filters.js';
import { receptiveFields } from '../methods/inspect/receptiveField.js';
import { nearestNames } from '../onnx/graph.js';
import { ACTIVATION_SCALES, type ActivationScale, channelGrid, filterGrid } from '../render/inspect.js';
import { gridPng } from '../render/node.js';
import type { ConvlensModel } from '../runtime/model.js';
import {
  type CardFlags,
  cardFor,
  parsePositiveInt,
  resolveModel,
  withCardFlags,
  writeAll,
} from './common.js';
import { inputsFrom, withSampleOptions } from './explain.js';
import { givesProbabilities, topClasses } from './predictions.js';
import { openModel } from './runtime.js';

/** A tensor name made safe for a file name. */
export const fileSlug = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '_');

/** A file's name without folder and extension, made safe for a file name: `a/b/my cat.png` → `my_cat`. */
export const fileStem = (file: string): string => fileSlug(basename(file, extname(file)));

/**
 * An explainer over one blank input at the card's size: enough to list layers, their shapes and the
 * default feature map without touching data.
 */
export function probeExplainer(m: ConvlensModel, card: ModelCard): Explainer {
  const p = card.preprocessing;
  const dims = [1, p.channels, ...p.size];
  return new Explainer(
    m,
    { dtype: 'float32', dims, data: new Float32Array(dims.reduce((a, b) => a * b)) },
    { logits: card.tensors?.logits, features: card.tensors?.features },
  );
}

/** The spatial [1, C, H, W] tensor `requested`, or the card's features / last feature map; errors list the spatial ones. */
export async function spatialLayer(explainer: Explainer, requested?: string): Promise<string> {
  if (requested === undefined) return explainer.resolveLayer();
  const layers = await explainer.layers();
  const spatial = layers.filter((l) => l.shape.length === 4 && l.opType !== 'Input').map((l) => l.tensor);
  if (spatial.includes(requested)) return requested;
  const info = layers.find((l) => l.tensor === requested);
  throw new Error(
    info
      ? `layer "${requested}" (${info.opType}, shape [${info.shape.join(', ')}]) has no spatial extent; spatial layers [N, C, H, W]: ${nearestNames(requested, spatial, 6).join(', ')}`
      : `layer "${requested}" not found; spatial layers, nearest first: ${nearestNames(requested, spatial, 6).join(', ')}`,
  );
}

export function addInspectCommands(program: Command): void {
  program
    .command('filters')
    .description(
      'convolution filters as image tiles (first layer in colour, deeper layers one grey tile per input channel) and raw weights as .npy',
    )
    .option('-m, --model <model>', 'ONNX file or shipped model name', 'shapes-gap')
    .option('-l, --layer <name>', 'Conv node, output or weight name (default: the first Conv)')
    .option('-o, --out <file.png>', 'output PNG (the weights go beside it as .npy)', 'filters.png')
    .option('--max-filters <n>', 'filters shown', parsePositiveInt, 64)
    .option('--max-inputs <n>', 'input channels shown per filter (deeper layers)', parsePositiveInt, 16)
    .option('--json', 'print JSON')
    .action(
      async (flags: {
        model: string;
        layer?: string;
        out: string;
        maxFilters: number;
        maxInputs: number;
        json?: boolean;
      }) => {
        if (extname(flags.out).toLowerCase() !== '.png')
          throw new Error(`--out "${flags.out}" must end in .png`);
        const { model } = resolveModel(flags.model);
        const layer = findConvLayer(model.graph, flags.layer);
        const weights = filterWeights(model.graph, layer);
        const grid = filterGrid(weights, { maxFilters: flags.maxFilters, maxInputs: flags.maxInputs });
        const npy = `${basename(flags.out, extname(flags.out))}.npy`;
        const title = `${layer.output}: ${layer.dims.join('×')} (${grid.mode}, each filter scaled to ±max|w|)`;
        writeAll(
          dirname(flags.out),
          new Map<string, Uint8Array | string>([
            [basename(flags.out), await gridPng(grid.rows, { cell: 48, headers: grid.headers, title })],
            [npy, encodeNpy(weights.data, weights.dims)],
          ]),
        );
        const record = {
          layer,
          mode: grid.mode,
          shown: grid.shown,
          png: flags.out,
          npy: join(dirname(flags.out), npy),
        };
        if (flags.json) process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
        else
          process.stdout.write(
            `${layer.output} [${layer.dims.join(', ')}]: ${grid.shown.filters} filters as ${grid.mode} tiles → ${flags.out}, weights → ${record.npy}\n`,
          );
      },
    );

  withCardFlags(
    withSampleOptions(
      program.command('activations'),
      1,
      'test samples of mnist, shapes or an image folder instead of files',
    )
      .description(
        "every channel's feature map for images, with per-channel statistics (JSON) and the raw tensor (.npy)",
      )
      .option('-l, --layer <tensor>', 'spatial layer (default: the last feature map before the head)')
      .addOption(
        new Option('--scale <how>', 'colour scale shared by all channels, or per channel')
          .choices([...ACTIVATION_SCALES])
          .default('shared'),
      )
      .option(
        '--max-channels <n>',
        'channels drawn in the grid (all are in .npy and JSON)',
        parsePositiveInt,
        64,
      )
      .option('-o, --out <dir>', 'output folder', 'activations')
      .option('--json', 'print JSON'),
  ).action(
    async (
      flags: CardFlags & {
        model: string;
        image?: string[];
        inputNpy?: string;
        data?: string;
        count: number;
        layer?: string;
        scale: ActivationScale;
        maxChannels: number;
        out: string;
        json?: boolean;
      },
    ) => {
      const { model } = resolveModel(flags.model);
      const card = cardFor(model, flags);
      const inputs = await inputsFrom(flags, card);
      const m = openModel(model, card.preprocessing.layout);
      try {
        const logitsTensor = card.tensors?.logits ?? m.outputNames[0];
        const explainer = new Explainer(m, inputs.input, {
          logits: logitsTensor,
          classes: card.classes,
          features: card.tensors?.features,
        });
        const layer = await spatialLayer(explainer, flags.layer);
        const [map, logits] = await Promise.all([explainer.activations(layer), explainer.logitValues()]);
        const data = map.data as Float32Array;
        const s = await m.prepare({ [m.inputNames[0]]: inputs.input.dims });
        const field = receptiveFields(s.model, s.types).fields.get(layer);
        const top = topClasses(logits, card.classes, 3, givesProbabilities(model, logitsTensor));
        const files = new Map<string, Uint8Array | string>();
        const records = [];
        const per = data.length / inputs.input.dims[0];
        for (const [i, stem] of inputs.stems.entries()) {
          const stats = channelStats(data, map.dims, i);
          const base = `${stem}.${fileSlug(layer)}`;
          const rows = channelGrid(data, map.dims, i, stats, {
            scale: flags.scale,
            maxChannels: flags.maxChannels,
          });
          files.set(
            `${base}.png`,
            await gridPng(rows, {
              cell: 96,
              title: `${inputs.sources[i].split('/').pop()} · ${layer} [${map.dims.slice(1).join('×')}] · ${flags.scale} scale`,
            }),
          );
          files.set(
            `${base}.npy`,
            encodeNpy(data.subarray(i * per, (i + 1) * per), [1, ...map.dims.slice(1)]),
          );
          const record = {
            model: flags.model,
            source: inputs.sources[i],
            layer,
            shape: [1, ...map.dims.slice(1)],
            receptiveField: field ?? null,
            prediction: top[i],
            scale: flags.scale,
            files: { png: `${base}.png`, npy: `${base}.npy` },
            channels: stats,
          };
          files.set(`${base}.json`, `${JSON.stringify(record, null, 2)}\n`);
          records.push(record);
        }
        writeAll(flags.out, files);
        if (flags.json) process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
        else
          for (const r of records) {
            const firing = r.channels.filter((c) => c.max > 0).length;
            process.stdout.write(
              `${r.source}: ${r.layer} [${r.shape.join(', ')}], ${firing}/${r.channels.length} channels fire → ${join(flags.out, r.files.png)}\n`,
            );
          }
      } finally {
        await m.release();
      }
    },
  );
}
