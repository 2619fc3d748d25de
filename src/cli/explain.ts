/** `convlens explain`, `convlens localize` and `convlens report`. */

import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { calibratedThresholds, type ModelCard } from '../data/card.js';
import { loadDatasetSplits } from '../data/node.js';
import { ATTRIBUTION_METHODS, findMethod, METHOD_NAMES, paramsOf } from '../methods/attribution/index.js';
import { IG_BASELINES } from '../methods/attribution/integratedGradients.js';
import {
  bestThreshold,
  evaluateLocalization,
  thresholdRange,
} from '../methods/attribution/localizationEval.js';
import { parseTarget } from '../methods/attribution/target.js';
import { captionParams } from '../render/attribution.js';
import { COLORMAPS } from '../render/colormap.js';
import { drawBox } from '../render/image.js';
import { encodeJpeg, encodePng, gridPng, writeFileAtomic } from '../render/node.js';
import { type ReportData, reportHtml } from '../render/report.js';
import {
  type CardFlags,
  cardFor,
  pad,
  parseNonNegativeInt,
  parsePositive,
  parsePositiveInt,
  resolveModel,
  withCardFlags,
  writeAll,
} from './common.js';
import {
  type ExplainJob,
  type ExplainOutcome,
  methodRecord,
  npyOf,
  runExplainJob,
  sampleDiagnostics,
  targetSlug,
} from './explainJob.js';
import { faithfulnessReportSection } from './faithfulness.js';
import { datasetInputs, type ExplainInputs, imageInputs, npyInputs } from './inputs.js';
import { openModel } from './runtime.js';
import { scouterRunnerUps } from './scouterReport.js';

/** The model and samples a verb works on, and the method and layer it asks for. */
export interface SampleFlags extends CardFlags {
  model: string;
  image?: string[];
  inputNpy?: string;
  data?: string;
  count: number;
  method: string;
  layer?: string;
}

/** --model, --image, --input-npy, --data and --count, as every verb over samples takes them. */
export function withSampleOptions(cmd: Command, count: number, dataHelp: string): Command {
  return cmd
    .option('-m, --model <model>', 'ONNX file or shipped model name', 'shapes-gap')
    .option('-i, --image <files...>', 'image files')
    .option('--input-npy <file>', 'an already preprocessed float32 tensor in the model layout, in .npy')
    .option('-d, --data <data>', dataHelp)
    .option('--count <n>', 'how many samples with --data', parsePositiveInt, count);
}

interface ExplainFlags extends SampleFlags {
  target: string[];
  out: string;
  json?: boolean;
  batch: number;
  seed: number;
  steps: number;
  baseline: string;
  samples: number;
  sigma: number;
  smoothBase: string;
  window: number;
  stride: number;
  occlusionValue: number;
  colormap?: string;
  alpha?: number;
  boxThreshold?: number;
  quiet?: boolean;
}

function parseFraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 1))
    throw new InvalidArgumentError(`expected a number in [0, 1], got "${value}"`);
  return n;
}

/** Thresholds to sweep: "0.1,0.15,0.2" or an inclusive range "FROM:TO:STEP" (e.g. 0.05:0.5:0.05). */
function parseThresholds(value: string): number[] {
  const bad = (why: string) =>
    new InvalidArgumentError(`expected fractions "A,B,..." or a range "FROM:TO:STEP" in [0, 1]: ${why}`);
  const fraction = (text: string) => {
    const n = Number(text);
    if (text.trim() === '' || !(n >= 0 && n <= 1)) throw bad(`"${text}" is not in [0, 1]`);
    return n;
  };
  const range = value.split(':');
  if (range.length === 1) return value.split(',').map(fraction);
  if (range.length !== 3) throw bad(`"${value}" has ${range.length} parts`);
  const [from, to] = range.slice(0, 2).map(fraction);
  const step = Number(range[2]);
  if (!(step > 0) || from > to) throw bad(`"${value}" needs FROM ≤ TO and STEP > 0`);
  if ((to - from) / step >= 1000) throw bad(`"${value}" gives more than 1000 thresholds`);
  return thresholdRange(from, to, step);
}

function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new InvalidArgumentError(`expected a number, got "${value}"`);
  return n;
}

/** Flags shared by explain and report: inputs, methods, targets, method parameters, rendering. */
function withExplainFlags(cmd: Command, defaultMethods: string): Command {
  return withCardFlags(
    withSampleOptions(cmd, 4, 'explain test samples of mnist, shapes or an image folder instead of files')
      .option(
        '--method <list>',
        `comma-separated methods, or all: ${METHOD_NAMES.join(', ')}`,
        defaultMethods,
      )
      .option(
        '-l, --layer <tensor>',
        'feature map for CAM-family methods (default: the last one before the head)',
      )
      .option(
        '-t, --target <targets...>',
        'top (default), a class index or name, channel:TENSOR:C, neuron:TENSOR:C:Y:X',
        ['top'],
      ),
  )
    .option('--batch <n>', 'rows per forward/backward pass', parsePositiveInt, 32)
    .option('--seed <n>', 'seed for SmoothGrad noise', parseNonNegativeInt, 0)
    .option('--steps <n>', 'Integrated Gradients steps', parsePositiveInt, 64)
    .addOption(
      new Option('--baseline <kind>', 'Integrated Gradients baseline')
        .choices([...IG_BASELINES])
        .default('zero'),
    )
    .option('--samples <n>', 'SmoothGrad samples', parsePositiveInt, 25)
    .option('--sigma <x>', 'SmoothGrad noise σ as a fraction of the input range', parsePositive, 0.15)
    .option('--smooth-base <method>', 'the pixel method SmoothGrad averages', 'saliency')
    .option('--window <px>', 'occlusion window (0: an eighth of the image)', parseNonNegativeInt, 0)
    .option('--stride <px>', 'occlusion stride (0: half the window)', parseNonNegativeInt, 0)
    .option('--occlusion-value <v>', 'value of occluded pixels in model-input space', parseNumber, 0)
    .addOption(
      new Option(
        '--colormap <name>',
        'colormap for unsigned maps (default: jet for CAMs, inferno for gradients)',
      ).choices([...COLORMAPS]),
    )
    .option('--alpha <a>', 'overlay opacity of CAM and signed maps (default 0.5, 0.75)', parseFraction)
    .option(
      '--box-threshold <f>',
      'localisation threshold as a fraction of the CAM max (default: the model card’s calibrated one, else 0.2 for cam, 0.15 otherwise)',
      parseFraction,
    )
    .option('-q, --quiet', 'no progress output');
}

function jobFrom(flags: ExplainFlags, card: ModelCard): ExplainJob {
  const methods = flags.method
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (methods.length === 0) throw new Error('--method is empty');
  return {
    methods,
    targets: flags.target.map((text) => ({ text, target: parseTarget(text, card.classes) })),
    layer: flags.layer,
    params: {
      ig: { steps: flags.steps, baseline: flags.baseline },
      smoothgrad: {
        samples: flags.samples,
        sigma: flags.sigma,
        base: flags.smoothBase,
        baseParams: flags.smoothBase === 'ig' ? { steps: flags.steps, baseline: flags.baseline } : undefined,
      },
      occlusion: { window: flags.window, stride: flags.stride, baseline: flags.occlusionValue },
    },
    batch: flags.batch,
    seed: flags.seed,
    render: {
      colormap: flags.colormap,
      alpha: flags.alpha,
      boxThreshold: flags.boxThreshold,
      boxThresholds: calibratedThresholds(card),
    },
    quiet: flags.quiet || flags.json,
  };
}

/** The samples a verb works on: --image files, an --input-npy tensor, or --data test samples. */
export async function inputsFrom(
  flags: Pick<ExplainFlags, 'image' | 'inputNpy' | 'data' | 'count'>,
  card: ReturnType<typeof cardFor>,
  fallback?: string,
): Promise<ExplainInputs> {
  const given = [
    flags.image?.length ? '--image' : '',
    flags.inputNpy ? '--input-npy' : '',
    flags.data ? '--data' : '',
  ].filter(Boolean);
  if (given.length > 1)
    throw new Error(`give one of --image, --input-npy or --data, not ${given.join(' and ')}`);
  if (flags.image?.length) return imageInputs(flags.image, card);
  if (flags.inputNpy) return npyInputs(flags.inputNpy, card);
  const data = flags.data ?? fallback;
  if (!data) throw new Error('give --image FILES, --input-npy FILE or --data DATASET');
  return datasetInputs(data, card, flags.count);
}

export function addExplainCommands(program: Command): void {
  withExplainFlags(
    program
      .command('explain')
      .description(
        'attribution maps (saliency, IG, occlusion, CAM family, …) for images: PNG overlays, raw .npy maps and JSON',
      ),
    'all',
  )
    .option(
      '-o, --out <dir>',
      'output folder (also gets grid.png: rows = images, columns = methods)',
      'explanations',
    )
    .option('--json', 'print a JSON summary')
    .action(async (flags: ExplainFlags) => {
      const { model } = resolveModel(flags.model);
      const card = cardFor(model, flags);
      const job = jobFrom(flags, card);
      const inputs = await inputsFrom(flags, card);
      const m = openModel(model, card.preprocessing.layout);
      try {
        const outcome = await runExplainJob(m, card, inputs, job);
        const files = new Map<string, Uint8Array | string>();
        const summary = [];
        for (const [i, stem] of inputs.stems.entries()) {
          const explanations = [];
          for (const run of outcome.runs) {
            const suffix = outcome.runs.length > 1 ? `.${targetSlug(run.text)}` : '';
            const methods: Record<string, unknown> = {};
            for (const [k, map] of run.result.maps.entries()) {
              const png = `${stem}.${map.method}${suffix}.png`;
              const npy = `${stem}.${map.method}${suffix}.npy`;
              files.set(png, await encodePng(run.rendered[k][i].image));
              files.set(npy, npyOf(map, i, card.preprocessing.layout));
              methods[map.method] = methodRecord(
                map,
                i,
                run.rendered[k][i],
                { png, npy },
                card.preprocessing.layout,
              );
            }
            explanations.push({
              target: run.text,
              layer: run.result.layer,
              methods,
              skipped: run.result.skipped,
            });
          }
          const record = {
            model: flags.model,
            card: card.name,
            source: inputs.sources[i],
            preprocessing: card.preprocessing,
            prediction: outcome.top[i],
            explanations,
          };
          files.set(`${stem}.json`, `${JSON.stringify(record, null, 2)}\n`);
          summary.push(record);
        }
        // One labelled grid per target: rows = images, columns = input | each method.
        for (const run of outcome.runs) {
          const name = outcome.runs.length > 1 ? `grid.${targetSlug(run.text)}.png` : 'grid.png';
          const rows = inputs.stems.map((stem, i) => ({
            label: `${stem}: ${outcome.top[i][0].label}`,
            cells: [
              { image: inputs.images[i], caption: inputs.sources[i].split('/').pop() },
              ...run.result.maps.map((map, k) => ({
                image: run.rendered[k][i].image,
                caption: [captionParams(map.method, paramsOf(map, i)), `${map.ms.toFixed(0)} ms`]
                  .filter(Boolean)
                  .join(' · '),
              })),
            ],
          }));
          files.set(
            name,
            await gridPng(rows, {
              headers: ['input', ...run.result.maps.map((m) => m.method)],
              title: `${card.name}: ${run.text}`,
            }),
          );
        }
        writeAll(flags.out, files);
        if (flags.json)
          process.stdout.write(`${JSON.stringify({ out: flags.out, samples: summary }, null, 2)}\n`);
        else {
          for (const [i, stem] of inputs.stems.entries()) {
            const t = outcome.top[i][0];
            process.stdout.write(`${inputs.sources[i]}: ${t.label} (${(100 * t.probability).toFixed(1)}%)\n`);
            for (const run of outcome.runs)
              for (const map of run.result.maps)
                process.stdout.write(
                  `  ${pad(map.method, 16)}${pad(`${map.ms.toFixed(0)} ms`, 10)}${join(flags.out, `${stem}.${map.method}${outcome.runs.length > 1 ? `.${targetSlug(run.text)}` : ''}.png`)}\n`,
                );
            for (const [name, why] of Object.entries(outcome.runs[0]?.result.skipped ?? {}))
              process.stdout.write(`  ${pad(name, 16)}skipped: ${why}\n`);
          }
          process.stdout.write(`wrote ${files.size} files to ${flags.out}\n`);
        }
      } finally {
        await m.release();
      }
    });

  withCardFlags(
    program
      .command('localize')
      .description(
        'CAM boxes (weakly supervised localisation); with --eval, box accuracy at IoU ≥ 0.5 on a dataset with boxes',
      )
      .option('-m, --model <model>', 'ONNX file or shipped model name', 'shapes-gap')
      .option('-i, --image <files...>', 'image files to localise')
      .option('-d, --data <data>', 'dataset with ground-truth boxes (shapes) for --eval', 'shapes')
      .option('--eval', 'measure box accuracy on a split of the dataset (--split)')
      .addOption(
        new Option('--split <name>', 'split for --eval (validation: for choosing a threshold)')
          .choices(['test', 'validation'])
          .default('test'),
      )
      .option(
        '--sweep <thresholds>',
        'with --eval, also score these thresholds ("0.1,0.2" or FROM:TO:STEP) and name the best',
        parseThresholds,
      )
      .option('--method <name>', 'CAM-family method', 'gradcam')
      .option('-l, --layer <tensor>', 'feature map (default: the last one before the head)')
      .option(
        '--threshold <f>',
        'fraction of the CAM max (default: the model card’s calibrated one, else 0.2 for cam, 0.15 otherwise)',
        parseFraction,
      )
      .option('--limit <n>', 'evaluate the first n samples of the split', parsePositiveInt)
      .option('--batch <n>', 'samples per pass', parsePositiveInt, 64)
      .option('-o, --out <dir>', 'write S.box.png with the box drawn, for --image')
      .option('--json', 'print JSON'),
  ).action(
    async (
      flags: CardFlags & {
        model: string;
        image?: string[];
        data: string;
        eval?: boolean;
        split: 'test' | 'validation';
        sweep?: number[];
        method: string;
        layer?: string;
        threshold?: number;
        limit?: number;
        batch: number;
        out?: string;
        json?: boolean;
      },
    ) => {
      const { model } = resolveModel(flags.model);
      const card = cardFor(model, flags);
      const known = ATTRIBUTION_METHODS.filter((x) => x.resolution === 'layer').map((x) => x.name);
      if (!known.includes(flags.method))
        throw new Error(`--method "${flags.method}" does not give a CAM; use one of ${known.join(', ')}`);
      if (!flags.eval && !flags.image?.length)
        throw new Error('give --image FILES, or --eval to measure box accuracy on --data');
      if (flags.sweep && !flags.eval) throw new Error('--sweep needs --eval');
      const m = openModel(model, card.preprocessing.layout);
      try {
        if (flags.eval) {
          const splits = await loadDatasetSplits(flags.data, card.preprocessing);
          const data = splits[flags.split];
          if (!data)
            throw new Error(`data "${flags.data}" has no ${flags.split} split (it has: train, test)`);
          const tty = process.stderr.isTTY && !flags.json;
          const r = await evaluateLocalization(m, data, card.preprocessing, {
            method: flags.method,
            threshold: flags.threshold,
            calibrated: calibratedThresholds(card),
            thresholds: flags.sweep,
            layer: flags.layer,
            logits: card.tensors?.logits,
            features: card.tensors?.features,
            batch: flags.batch,
            limit: flags.limit,
            onProgress: tty ? (done, total) => process.stderr.write(`\r${done}/${total}`) : undefined,
          });
          if (tty) process.stderr.write('\n');
          const best = r.sweep ? bestThreshold(r.sweep) : undefined;
          const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
          if (flags.json)
            process.stdout.write(
              `${JSON.stringify({ model: flags.model, data: flags.data, split: flags.split, ...r, best }, null, 2)}\n`,
            );
          else {
            const source =
              flags.threshold === undefined && card.localization?.[flags.method]
                ? ` (calibrated on ${card.localization[flags.method].split})`
                : '';
            process.stdout.write(
              `${flags.method} at "${r.layer}", threshold ${r.threshold} of max${source}, ${r.samples} ${flags.data} ${flags.split} samples\n` +
                `  box accuracy (IoU ≥ ${r.iou}, true class)   ${pct(r.boxAccuracy)}\n` +
                `  top-1 localisation (class and box right)   ${pct(r.top1Localization)}\n` +
                `  classification accuracy                    ${pct(r.classification)}\n` +
                `  mean IoU                                   ${r.meanIoU.toFixed(3)}\n`,
            );
            if (r.sweep && best) {
              const lines = r.sweep.map(
                (s) =>
                  `  ${String(s.threshold).padEnd(9)} ${pct(s.boxAccuracy).padStart(7)}  ${pct(s.top1Localization).padStart(7)}  ${s.meanIoU.toFixed(3)}${s === best ? '  ← best' : ''}`,
              );
              process.stdout.write(
                `sweep on ${flags.split} (${flags.split === 'test' ? 'pick a threshold on validation, not on test' : 'pass the best as --threshold'}):\n` +
                  `  threshold  box acc.  top-1 loc.  mean IoU\n${lines.join('\n')}\n`,
              );
            }
          }
          return;
        }
        const inputs = await imageInputs(flags.image!, card);
        const outcome = await runExplainJob(m, card, inputs, {
          methods: [flags.method],
          targets: [{ text: 'top', target: { kind: 'top' } }],
          layer: flags.layer,
          params: {},
          batch: flags.batch,
          seed: 0,
          render: { boxThreshold: flags.threshold, boxThresholds: calibratedThresholds(card) },
          quiet: true,
        });
        const rows = inputs.stems.map((stem, i) => ({
          image: inputs.sources[i],
          class: outcome.top[i][0].label,
          box: outcome.runs[0].rendered[0][i].box ?? null,
          threshold: outcome.runs[0].rendered[0][i].boxThreshold,
          stem,
        }));
        if (flags.out) {
          const files = new Map<string, Uint8Array>();
          for (const [i, r] of rows.entries()) {
            const img = { ...inputs.images[i], data: Uint8Array.from(inputs.images[i].data) };
            if (r.box) drawBox(img, r.box, [0, 255, 0], 1);
            files.set(`${r.stem}.box.png`, await encodePng(img));
          }
          writeAll(flags.out, files);
        }
        if (flags.json)
          process.stdout.write(
            `${JSON.stringify(
              rows.map(({ stem, ...r }) => r),
              null,
              2,
            )}\n`,
          );
        else
          for (const r of rows)
            process.stdout.write(
              `${r.image}: ${r.class} box ${r.box ? `[${r.box.join(', ')}]` : 'none (the map has no positive value)'}\n`,
            );
      } finally {
        await m.release();
      }
    },
  );

  withExplainFlags(
    program
      .command('report')
      .description(
        'one self-contained HTML page: each image, its top-5 classes, every method’s overlay and the localisation box',
      ),
    'all',
  )
    .option('-o, --out <file>', 'output HTML file', 'convlens-report.html')
    .option(
      '--faithfulness',
      'add the faithfulness table and curves (deletion, insertion, ROAD, pointing games, weight randomisation) of the same maps',
    )
    .action(async (flags: ExplainFlags & { faithfulness?: boolean }) => {
      const { model } = resolveModel(flags.model);
      const card = cardFor(model, flags);
      const job = jobFrom(flags, card);
      const inputs = await inputsFrom(flags, card, card.dataset);
      const m = openModel(model, card.preprocessing.layout);
      try {
        const started = performance.now();
        const outcome = await runExplainJob(m, card, inputs, job);
        const sections = flags.faithfulness ? [await faithfulnessReportSection(m, card, inputs, job)] : [];
        const runnerUps = await scouterRunnerUps(m, card, inputs, outcome);
        const data = reportData(flags.model, card, inputs, outcome, (performance.now() - started) / 1000);
        data.samples.forEach((sample, i) => {
          sample.methods.push(...runnerUps[i]);
        });
        const html = await reportHtml({ ...data, sections }, encodeJpeg);
        writeFileAtomic(flags.out, html);
        process.stdout.write(
          `wrote ${resolve(flags.out)} (${inputs.stems.length} images, ${outcome.runs[0]?.result.maps.length ?? 0} methods); open it in a browser\n`,
        );
      } finally {
        await m.release();
      }
    });
}

/** The report's content: the first target's maps, the box from the first CAM-family map (Grad-CAM preferred). */
function reportData(
  modelName: string,
  card: ModelCard,
  inputs: ExplainInputs,
  outcome: ExplainOutcome,
  seconds: number,
): ReportData {
  const run = outcome.runs[0];
  const maps = run.result.maps;
  const boxFrom = ['gradcam', 'cam', 'gradcam++', 'layercam', 'score-cam']
    .map((n) => maps.findIndex((m) => m.method === n))
    .find((k) => k >= 0);
  const facts: [string, string][] = [
    ['model', `${modelName}${card.name !== modelName ? ` (${card.name})` : ''}`],
    ['input', `${card.preprocessing.channels}×${card.preprocessing.size.join('×')}`],
  ];
  if (card.dataset) facts.push(['trained on', card.dataset]);
  if (card.testAccuracy !== undefined)
    facts.push(['test accuracy', `${(100 * card.testAccuracy).toFixed(2)}%`]);
  if (run.result.layer) facts.push(['CAM layer', run.result.layer]);
  facts.push(['target', run.text], ['time', `${seconds.toFixed(1)} s`]);
  return {
    title: `convlens report: ${card.name}`,
    facts,
    skipped: run.result.skipped,
    samples: inputs.stems.map((_, i) => {
      const rendered = boxFrom !== undefined ? run.rendered[boxFrom][i] : undefined;
      return {
        source: inputs.sources[i],
        image: inputs.images[i],
        truth: inputs.labels ? (card.classes[inputs.labels[i]] ?? String(inputs.labels[i])) : undefined,
        truthBox: inputs.boxes?.[i],
        top: outcome.top[i],
        box:
          rendered?.box && boxFrom !== undefined
            ? { method: maps[boxFrom].method, box: rendered.box, threshold: rendered.boxThreshold! }
            : undefined,
        methods: maps.map((map, k) => {
          const method = findMethod(map.method);
          return {
            name: map.method,
            title: method.title,
            reference: method.reference,
            image: run.rendered[k][i].image,
            target: map.target.labels[i],
            params: paramsOf(map, i),
            ms: map.ms,
            diagnostics: sampleDiagnostics(map, i),
          };
        }),
      };
    }),
  };
}
