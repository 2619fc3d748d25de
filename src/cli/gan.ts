/** `convlens gan sample | dissect | edit`: GAN dissection on any latent-vector generator and segmenter. */

import { type Command, InvalidArgumentError, Option } from 'commander';
import { readCard } from '../data/card.js';
import { readGeneratorCard } from '../data/generatorCard.js';
import type { DissectionResult } from '../methods/inspect/dissect/dissect.js';
import {
  ablationCurve,
  classFractions,
  insertionTrials,
  rankUnits,
  regionAround,
  unitAblationEffects,
  unitEdit,
  unitQuantiles,
} from '../methods/inspect/gan/effects.js';
import { dissectGenerator, GAN_QUANTILE } from '../methods/inspect/gan/ganDissect.js';
import { GanPair, latents } from '../methods/inspect/gan/pair.js';
import { unitRegionImage } from '../render/dissect.js';
import type { GridRow } from '../render/grid.js';
import { rgbFromPlanar } from '../render/image.js';
import { gridPng } from '../render/node.js';
import { legendRow, segmentationRows } from '../render/segmentation.js';
import { nodeBackend } from '../runtime/node.js';
import {
  pad,
  parseNonNegativeInt,
  parseNumbers,
  parsePositive,
  parsePositiveInt,
  readLabels,
  resolveModel,
  writeAll,
} from './common.js';
import { cliSessionOptions } from './runtime.js';

interface PairFlags {
  model: string;
  segmenter?: string;
  segLabels?: string;
  latentDim?: number;
  outputRange?: 'unit' | 'symmetric';
}

/** Unit lists such as "3,7,12" or "auto". */
function parseUnits(value: string): number[] | 'auto' {
  if (value === 'auto') return 'auto';
  const units = value.split(',').map((s) => Number(s.trim()));
  if (units.length === 0 || units.some((u) => !Number.isInteger(u) || u < 0))
    throw new InvalidArgumentError(`expected "auto" or unit indices such as 3,7,12; got "${value}"`);
  return units;
}

const withPairFlags = (cmd: Command, segmenterRequired: boolean) =>
  cmd
    .option('-m, --model <generator>', 'generator: ONNX file or shipped name', 'shapes-gan')
    .option(
      '--segmenter <model>',
      `segmenter: ONNX file or shipped name${segmenterRequired ? '' : ' (adds a segmentation row)'}`,
      segmenterRequired ? 'shapes-seg' : undefined,
    )
    .option('--seg-labels <file>', 'segmenter class names, one per line (default: its card)')
    .option('--latent-dim <d>', 'latent size when the generator does not declare it', parsePositiveInt)
    .addOption(
      new Option(
        '--output-range <range>',
        "the generator's pixel range (default: its card, else unit)",
      ).choices(['unit', 'symmetric']),
    );

/** Open the generator (and segmenter) named by the flags. */
async function openPair(flags: PairFlags): Promise<{ pair: GanPair; layer?: string }> {
  const generator = resolveModel(flags.model).model;
  const gcard = readGeneratorCard(generator);
  const segmenter = flags.segmenter ? resolveModel(flags.segmenter).model : undefined;
  const scard = segmenter && readCard(segmenter);
  const classes = flags.segLabels ? readLabels(flags.segLabels) : scard?.classes;
  if (segmenter && (!classes || classes.length === 0))
    throw new Error(`segmenter "${flags.segmenter}" has no card with classes; give --seg-labels FILE`);
  const pair = await GanPair.open(
    {
      generator,
      segmenter,
      classes: classes ?? [],
      segmenterPreprocessing: scard?.preprocessing,
      latentDim: flags.latentDim ?? gcard?.latent.size,
      outputRange: flags.outputRange ?? gcard?.image.range ?? 'unit',
      session: cliSessionOptions(),
    },
    nodeBackend(),
  );
  return { pair, layer: gcard?.defaultLayer ?? gcard?.layers[1] };
}

/** The layer to work on: --layer, else the generator card's default layer. */
function chooseLayer(flag: string | undefined, fromCard: string | undefined, pair: GanPair): string {
  const layer = flag ?? fromCard;
  if (!layer) throw new Error('the generator has no card naming its layers; give --layer TENSOR');
  pair.layer(layer);
  return layer;
}

/** Each labelled unit's top samples with its region (map ≥ T_u) outlined, best IoU first. */
async function unitsPicture(
  pair: GanPair,
  result: DissectionResult,
  seed: number,
  most = 16,
): Promise<Buffer | undefined> {
  const layer = result.layers[0];
  const units = layer.units
    .filter((u) => u.label !== null)
    .sort((a, b) => b.iou - a.iou)
    .slice(0, most);
  const images = [...new Set(units.flatMap((u) => u.images.map(([i]) => i)))];
  if (images.length === 0) return undefined;
  const d = pair.latent.size;
  const z = new Float32Array(images.length * d);
  images.forEach((i, k) => {
    z.set(latents(seed, i, 1, d), k * d);
  });
  const { images: pixels, fetched } = await pair.generate(z, images.length, { fetch: [layer.layer] });
  const [c, h, w] = layer.shape;
  const [, height, width] = pair.image;
  const per = 3 * height * width;
  const rows: GridRow[] = units.map((u) => ({
    label: `${u.unit}: ${u.label} ${u.iou.toFixed(2).replace(/^0/, '')}`,
    cells: u.images.map(([i]) => {
      const k = images.indexOf(i);
      const rgb = rgbFromPlanar(pixels.subarray(k * per, (k + 1) * per), 3, height, width);
      const map = fetched[layer.layer].subarray((k * c + u.unit) * h * w, (k * c + u.unit + 1) * h * w);
      return { image: unitRegionImage(rgb, map, h, w, u.threshold), caption: `#${i}`, pixelated: true };
    }),
  }));
  const title = `${layer.layer}: ${layer.interpretable} of ${layer.units.length} units labelled; top samples, region ≥ T_u outlined`;
  return gridPng(rows, { cell: 72, title });
}

/** Labelled units of a dissection, by class. */
function unitsByClass(result: DissectionResult): Record<string, { unit: number; iou: number }[]> {
  const out: Record<string, { unit: number; iou: number }[]> = {};
  for (const u of result.layers[0].units)
    if (u.label) {
      out[u.label] ??= [];
      out[u.label].push({ unit: u.unit, iou: Number(u.iou.toFixed(4)) });
    }
  for (const list of Object.values(out)) list.sort((a, b) => b.iou - a.iou);
  return out;
}

export function addGanCommands(program: Command): void {
  const gan = program
    .command('gan')
    .description(
      'GAN dissection: sample a generator, find the units that draw each class, edit images through them',
    );

  gan
    .command('sample')
    .description(
      'a grid of generated images (with a segmentation row per image row when --segmenter is given)',
    )
    .option('-m, --model <generator>', 'generator: ONNX file or shipped name', 'shapes-gan')
    .option('--segmenter <model>', 'segmenter: ONNX file or shipped name (adds segmentations)')
    .option('--seg-labels <file>', 'segmenter class names, one per line (default: its card)')
    .option('--latent-dim <d>', 'latent size when the generator does not declare it', parsePositiveInt)
    .addOption(
      new Option('--output-range <range>', "the generator's pixel range").choices(['unit', 'symmetric']),
    )
    .option('--count <n>', 'images (default 32)', parsePositiveInt, 32)
    .option('--seed <s>', 'latent seed (default 0)', parseNonNegativeInt, 0)
    .option('-o, --out <dir>', 'output folder', 'gan-samples')
    .action(async (flags: PairFlags & { count: number; seed: number; out: string }) => {
      const { pair } = await openPair(flags);
      try {
        const z = latents(flags.seed, 0, flags.count, pair.latent.size);
        const { images, classes } = await pair.generate(z, flags.count);
        const rows = segmentationRows(pair.image, images, flags.count, flags.segmenter ? classes : undefined);
        if (flags.segmenter) rows.push(legendRow(pair.classes));
        writeAll(flags.out, new Map([['samples.png', await gridPng(rows, { cell: 96 })]]));
        process.stdout.write(`wrote ${flags.out}/samples.png (${flags.count} samples, seed ${flags.seed})\n`);
      } finally {
        await pair.release();
      }
    });

  withPairFlags(gan.command('dissect'), true)
    .description(
      "label a generator layer's units with the segmenter's classes, and measure each unit's causal effect",
    )
    .option('--layer <tensor>', "generator layer (default: the generator card's)")
    .option('--samples <n>', 'generated samples (default 1000)', parsePositiveInt, 1000)
    .option('--effect-samples <n>', 'samples for the ablation effects (default 200)', parsePositiveInt, 200)
    .option('--seed <s>', 'latent seed (default 0)', parseNonNegativeInt, 0)
    .option(
      '--quantile <q>',
      `top quantile of each unit's activations (default ${GAN_QUANTILE})`,
      parsePositive,
    )
    .option('--iou <t>', 'IoU above which a unit is labelled (default 0.04)', parsePositive)
    .option(
      '-o, --out <dir>',
      'also write dissection.json and units.png (top samples of each labelled unit) here',
    )
    .option('--json', 'print JSON')
    .action(
      async (
        flags: PairFlags & {
          layer?: string;
          samples: number;
          effectSamples: number;
          seed: number;
          quantile?: number;
          iou?: number;
          out?: string;
          json?: boolean;
        },
      ) => {
        const { pair, layer: cardLayer } = await openPair(flags);
        try {
          const layer = chooseLayer(flags.layer, cardLayer, pair);
          const result = await dissectGenerator(pair, {
            layer,
            samples: flags.samples,
            seed: flags.seed,
            quantile: flags.quantile,
            iou: flags.iou,
          });
          const z = latents(flags.seed + 1, 0, flags.effectSamples, pair.latent.size);
          const { base, effects } = await unitAblationEffects(pair, layer, z, flags.effectSamples);
          const units = result.layers[0].units.map((u) => ({
            unit: u.unit,
            label: u.label,
            iou: Number(u.iou.toFixed(4)),
            // Ablating the unit alone: change of its label's share of the image.
            effect: u.label ? Number(effects[u.unit][pair.classIndex(u.label)].toFixed(5)) : null,
          }));
          const byClass = unitsByClass(result);
          const summary = {
            layer,
            shape: result.layers[0].shape,
            samples: flags.samples,
            quantile: result.quantile,
            iouThreshold: result.iouThreshold,
            classFractions: Object.fromEntries(pair.classes.map((c, k) => [c, Number(base[k].toFixed(4))])),
            byClass,
            strongestByEffect: Object.fromEntries(
              pair.classes.map((c, k) => [c, rankUnits(effects, k).slice(0, 5)]),
            ),
            units,
          };
          if (flags.out) {
            const files = new Map<string, string | Uint8Array>([
              ['dissection.json', `${JSON.stringify(summary, null, 2)}\n`],
            ]);
            const picture = await unitsPicture(pair, result, flags.seed);
            if (picture) files.set('units.png', picture);
            writeAll(flags.out, files);
          }
          if (flags.json) {
            process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
            return;
          }
          process.stdout.write(
            `${layer} [${result.layers[0].shape.join('×')}]: ${result.layers[0].interpretable} of ${units.length} units labelled (${flags.samples} samples, quantile ${result.quantile})\n\n`,
          );
          process.stdout.write(
            `${pad('class', 12)}${pad('area', 8)}${pad('units (IoU)', 50)}largest ablation effect\n`,
          );
          pair.classes.forEach((c, k) => {
            const listed = (byClass[c] ?? [])
              .slice(0, 6)
              .map((u) => `${u.unit} (${u.iou.toFixed(2)})`)
              .join(', ');
            const top = rankUnits(effects, k)
              .slice(0, 3)
              .map((u) => `${u}: ${(100 * effects[u][k]).toFixed(2)}%`)
              .join(', ');
            process.stdout.write(
              `${pad(c, 12)}${pad(`${(100 * base[k]).toFixed(1)}%`, 8)}${pad(listed || '-', 49)} ${top}\n`,
            );
          });
          if (flags.out) process.stdout.write(`\nwrote ${flags.out}/dissection.json and units.png\n`);
        } finally {
          await pair.release();
        }
      },
    );

  withPairFlags(gan.command('edit'), true)
    .description('ablate or insert units of a generator layer and measure what the segmenter sees change')
    .option('--layer <tensor>', "generator layer (default: the generator card's)")
    .option('--ablate <units>', 'units to switch off: indices such as 3,7,12, or auto')
    .option('--insert <units>', 'units to switch on at --at: indices, or auto')
    .option(
      '--at <x,y[,r]>',
      'insertion point in image pixels and radius in layer cells (default r 2)',
      parseNumbers,
    )
    .option('--class <name>', 'target class for auto and the report (default circle)', 'circle')
    .option('--top <k>', 'units auto picks (default 20)', parsePositiveInt, 20)
    .option('--samples <n>', 'samples measured (default 200)', parsePositiveInt, 200)
    .option('--show <n>', 'samples in the before/after pictures (default 8)', parsePositiveInt, 8)
    .option('--seed <s>', 'latent seed (default 0)', parseNonNegativeInt, 0)
    .option('-o, --out <dir>', 'output folder', 'gan-edit')
    .option('--json', 'print JSON')
    .action(
      async (
        flags: PairFlags & {
          layer?: string;
          ablate?: string;
          insert?: string;
          at?: number[];
          class: string;
          top: number;
          samples: number;
          show: number;
          seed: number;
          out: string;
          json?: boolean;
        },
      ) => {
        const ablate = flags.ablate === undefined ? undefined : parseUnits(flags.ablate);
        const insert = flags.insert === undefined ? undefined : parseUnits(flags.insert);
        if (ablate && insert) throw new Error('give --ablate or --insert, not both');
        const mode = insert ? 'insert' : 'ablate';
        const chosen = insert ?? ablate ?? 'auto';
        if (mode === 'insert' && (!flags.at || flags.at.length < 2 || flags.at.length > 3))
          throw new Error('--insert needs --at X,Y[,R]');
        if (mode === 'ablate' && flags.at) throw new Error('--at goes with --insert');
        const { pair, layer: cardLayer } = await openPair(flags);
        try {
          const layer = chooseLayer(flags.layer, cardLayer, pair);
          const c = pair.classIndex(flags.class);
          const { channels } = pair.layer(layer);
          const z = latents(flags.seed, 0, flags.samples, pair.latent.size);
          let units: number[];
          let effects: Float64Array[] | undefined;
          if (chosen === 'auto') {
            if (flags.top > channels)
              throw new Error(`--top ${flags.top}: layer "${layer}" has ${channels} units`);
            const ranking = await unitAblationEffects(
              pair,
              layer,
              latents(flags.seed + 1, 0, flags.samples, pair.latent.size),
              flags.samples,
            );
            effects = ranking.effects;
            units = rankUnits(effects, c).slice(0, flags.top);
          } else units = chosen;
          const region = flags.at && regionAround(pair, layer, [flags.at[0], flags.at[1]], flags.at[2] ?? 2);
          const edit = region
            ? unitEdit(pair, layer, units, await unitQuantiles(pair, layer, z, flags.samples), region)
            : unitEdit(pair, layer, units, 0);
          const area = pair.image[1] * pair.image[2];
          const before = await pair.generate(z, flags.samples);
          const after = await pair.generate(z, flags.samples, { edit });
          const fractions = (classes: Uint8Array) =>
            classFractions(classes, flags.samples, area, pair.classes.length);
          const [fb, fa] = [fractions(before.classes), fractions(after.classes)];
          const changes = Object.fromEntries(
            pair.classes.map((name, k) => [
              name,
              {
                before: Number(fb[k].toFixed(5)),
                after: Number(fa[k].toFixed(5)),
                relative: fb[k] > 0 ? Number(((fa[k] - fb[k]) / fb[k]).toFixed(4)) : null,
              },
            ]),
          );
          const dissection = await dissectGenerator(pair, {
            layer,
            samples: Math.max(200, flags.samples),
            seed: flags.seed + 2,
          });
          const labels = Object.fromEntries(units.map((u) => [u, dissection.layers[0].units[u].label]));
          const report: Record<string, unknown> = {
            mode,
            layer,
            class: flags.class,
            units,
            labels,
            samples: flags.samples,
            changes,
          };
          if (mode === 'ablate' && chosen === 'auto') {
            const ks = [1, 2, 4, 8, 12, 16, 20, 24, 32].filter((k) => k <= flags.top);
            const background = pair.classes.flatMap((name, k) => (name === 'background' ? [k] : []));
            const ranked = rankUnits(effects!, c);
            report.curve = await ablationCurve(pair, layer, ranked, c, ks, z, flags.samples, fb, background);
          }
          if (region) {
            report.insertion = {
              at: flags.at,
              ...(await insertionTrials(pair, edit, region, c, z, flags.samples)),
            };
          }
          const show = Math.min(flags.show, flags.samples);
          const picture = async (g: { images: Float32Array; classes: Uint8Array }) =>
            gridPng([...segmentationRows(pair.image, g.images, show, g.classes), legendRow(pair.classes)], {
              cell: 96,
            });
          writeAll(
            flags.out,
            new Map<string, string | Uint8Array>([
              ['before.png', await picture(before)],
              ['after.png', await picture(after)],
              ['edit.json', `${JSON.stringify(report, null, 2)}\n`],
            ]),
          );
          if (flags.json) {
            process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
            return;
          }
          process.stdout.write(`${mode} ${units.length} units of ${layer}: ${units.join(', ')}\n`);
          for (const [name, ch] of Object.entries(changes))
            process.stdout.write(
              `  ${pad(name, 12)}${(100 * ch.before).toFixed(2)}% → ${(100 * ch.after).toFixed(2)}% of the image${ch.relative === null ? '' : ` (${ch.relative >= 0 ? '+' : ''}${(100 * ch.relative).toFixed(1)}%)`}\n`,
            );
          if (report.insertion) {
            const r = report.insertion as { appeared: number; trials: number };
            process.stdout.write(
              `  ${flags.class} appeared at (${flags.at!.slice(0, 2).join(', ')}) in ${r.appeared} of ${r.trials} samples\n`,
            );
          }
          process.stdout.write(`wrote ${flags.out}/before.png, after.png, edit.json\n`);
        } finally {
          await pair.release();
        }
      },
    );
}
