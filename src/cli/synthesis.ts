/** `convlens visualize` and `convlens attack`: images made by gradient ascent, and adversarial examples. */

import { type Command, InvalidArgumentError, Option } from 'commander';
import { softmax } from '../maths/softmax.js';
import { ATTACKS, type AttackMethod, type AttackNorm, attack, NORMS } from '../methods/synthesis/attack.js';
import { OBJECTIVE_SYNTAX, parseObjective } from '../methods/synthesis/objective.js';
import { PARAMETERIZATIONS, type ParameterizationName } from '../methods/synthesis/parameterization.js';
import {
  OPTIMIZERS,
  type OptimizerName,
  type SynthesisOptions,
  synthesize,
  toModelInput,
} from '../methods/synthesis/synthesize.js';
import { colormap } from '../render/colormap.js';
import { denormalize, heatImage, type RgbImage, rgbFromPlanar } from '../render/image.js';
import { encodePng, gridPng } from '../render/node.js';
import {
  type CardFlags,
  cardFor,
  inputNpy,
  parseNonNegativeInt,
  parseNumbers,
  parsePositive,
  parsePositiveInt,
  resolveModel,
  withCardFlags,
  writeAll,
} from './common.js';
import { inputsFrom } from './explain.js';
import { fileSlug } from './inspect.js';
import { topClasses } from './predictions.js';
import { openModel } from './runtime.js';
import { scanData, spreadIndices } from './scan.js';

function parseNonNegative(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0) || !Number.isFinite(n))
    throw new InvalidArgumentError(`expected a number ≥ 0, got "${value}"`);
  return n;
}

function parsePercentile(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 100))
    throw new InvalidArgumentError(`expected a percentile in [0, 100], got "${value}"`);
  return n;
}

export const planarImage = (pixels: Float32Array, i: number, c: number, h: number, w: number): RgbImage =>
  rgbFromPlanar(pixels.subarray(i * c * h * w, (i + 1) * c * h * w), c, h, w);

/** The optimisation-loop flags every synthesis verb shares. */
export interface SynthesisFlags {
  steps: number;
  lr: number;
  optimizer: OptimizerName;
  param: ParameterizationName;
  decorrelate?: boolean;
  jitter: number;
  pad: number;
  scale?: number[];
  rotate: number;
  l2: number;
  tv: number;
  blurEvery: number;
  blurSigma: number;
  clipValue: number;
  clipGradient: number;
  seed: number;
  snapshotEvery: number;
}

export interface SynthesisDefaults {
  steps: number;
  lr: number;
  optimizer?: OptimizerName;
  jitter: number;
  l2: number;
  tv: number;
  blurEvery: number;
}

/** Add the shared loop flags with a verb's defaults. */
export function withSynthesisFlags(cmd: Command, d: SynthesisDefaults): Command {
  return cmd
    .option('--steps <n>', 'optimisation steps', parsePositiveInt, d.steps)
    .option('--lr <x>', 'learning rate', parsePositive, d.lr)
    .addOption(
      new Option('--optimizer <name>', 'optimiser').choices([...OPTIMIZERS]).default(d.optimizer ?? 'adam'),
    )
    .addOption(
      new Option('--param <p>', 'image parameterisation: pixels, or a 1/f-scaled Fourier spectrum')
        .choices([...PARAMETERIZATIONS])
        .default('pixel'),
    )
    .option(
      '--decorrelate',
      'optimise colour in a decorrelated basis (default with --param fft on colour models)',
    )
    .option('--jitter <px>', 'random shift each step', parseNonNegativeInt, d.jitter)
    .option(
      '--pad <px>',
      'frame the image with this many grey pixels before the transforms',
      parseNonNegativeInt,
      0,
    )
    .option('--scale <lo,hi>', 'random scale range each step, e.g. 0.95,1.05', parseScaleRange)
    .option('--rotate <deg>', 'random rotation within ±deg each step', parseNonNegative, 0)
    .option('--l2 <λ>', 'L2 decay towards the normalisation mean', parseNonNegative, d.l2)
    .option('--tv <λ>', 'total variation weight', parseNonNegative, d.tv)
    .option(
      '--blur-every <k>',
      'blur every k steps (0: never; pixel parameterisation only)',
      parseNonNegativeInt,
      d.blurEvery,
    )
    .option('--blur-sigma <σ>', 'blur σ in pixels', parsePositive, 0.5)
    .option('--clip-value <p>', 'reset pixels with norm below this percentile', parsePercentile, 0)
    .option(
      '--clip-gradient <p>',
      'freeze pixels with contribution below this percentile',
      parsePercentile,
      0,
    )
    .option('--seed <n>', 'seed of the start, jitter and transforms', parseNonNegativeInt, 0)
    .option('--snapshot-every <k>', 'also save the image every k steps', parseNonNegativeInt, 0);
}

function parseScaleRange(value: string): number[] {
  const r = parseNumbers(value);
  if (r.length !== 2 || !(r[0] > 0 && r[1] >= r[0]))
    throw new InvalidArgumentError(`expected lo,hi with 0 < lo ≤ hi, got "${value}"`);
  return r;
}

/**
 * The loop options from the flags. A default periodic blur is dropped for parameterisations that
 * are not pixels (it edits pixels directly); one the user asked for is kept, and refused later.
 */
export function synthesisOptions(flags: SynthesisFlags, cmd?: Command): SynthesisOptions {
  const pixels = flags.param === 'pixel' && !flags.decorrelate;
  const defaulted = cmd?.getOptionValueSource('blurEvery') === 'default';
  return {
    steps: flags.steps,
    lr: flags.lr,
    optimizer: flags.optimizer,
    param: flags.param,
    decorrelate: flags.decorrelate,
    jitter: flags.jitter,
    transforms: {
      pad: flags.pad,
      rotate: flags.rotate,
      scale: flags.scale ? [flags.scale[0], flags.scale[1]] : undefined,
    },
    l2: flags.l2,
    tv: flags.tv,
    blurEvery: !pixels && defaulted ? 0 : flags.blurEvery,
    blurSigma: flags.blurSigma,
    clipValue: flags.clipValue,
    clipGradient: flags.clipGradient,
    seed: flags.seed,
    snapshotEvery: flags.snapshotEvery,
  };
}

interface VisualizeFlags extends CardFlags, SynthesisFlags {
  model: string;
  target?: string[];
  layer?: string;
  first: number;
  out: string;
  json?: boolean;
}

export function addSynthesisCommands(program: Command): void {
  withCardFlags(
    withSynthesisFlags(
      program
        .command('visualize')
        .description(
          'class or unit visualisation by regularised gradient ascent from noise (default: every class)',
        )
        .option('-m, --model <model>', 'ONNX file or shipped model name', 'digits-gap')
        .option(
          '-t, --target <objectives...>',
          `objectives (${OBJECTIVE_SYNTAX}); default: logit:C for every class`,
        )
        .option('--layer <layer>', 'visualise the first --channels channels of this layer')
        .option('--first <k>', 'channels with --layer', parsePositiveInt, 8)
        .option('-o, --out <dir>', 'output folder', 'visualizations')
        .option('--json', 'print JSON'),
      { steps: 200, lr: 0.05, jitter: 1, l2: 0.02, tv: 0.5, blurEvery: 4 },
    ),
  ).action(async (flags: VisualizeFlags, cmd: Command) => {
    const { model } = resolveModel(flags.model);
    const card = cardFor(model, flags);
    const p = card.preprocessing;
    const [h, w] = p.size;
    const m = openModel(model, card.preprocessing.layout);
    const logits = card.tensors?.logits ?? m.outputNames[0];
    try {
      const classCount =
        (await m.layers([1, p.channels, h, w])).find((l) => l.tensor === logits)?.shape[1] ?? 0;
      if (flags.target && flags.layer) throw new Error('give --target or --layer, not both');
      let texts = flags.target ?? Array.from({ length: classCount }, (_, k) => `logit:${k}`);
      if (flags.layer) {
        const found = (await m.layers([1, p.channels, h, w])).find((l) => l.tensor === flags.layer);
        if (found?.shape.length !== 4)
          throw new Error(
            `--layer "${flags.layer}" is not a spatial layer of the model; see \`convlens layers --model ${flags.model}\``,
          );
        texts = Array.from(
          { length: Math.min(flags.first, found.shape[1] ?? 0) },
          (_, k) => `channel:${flags.layer}:${k}`,
        );
      }
      const objectives = texts.map((t) => ({ text: t, terms: parseObjective(t, logits) }));
      const options = synthesisOptions(flags, cmd);
      const files = new Map<string, Uint8Array | string>();
      const records = [];
      const cells = [];
      for (const o of objectives) {
        const r = await synthesize(m, p, o.terms, options);
        const out = await m.run(
          { dtype: 'float32', dims: r.dims, data: toModelInput(r.pixels, p) },
          { outputs: [logits] },
        );
        const z = Array.from(out[logits].data as Float32Array);
        const probs = Array.from(softmax(z));
        const top = probs.indexOf(Math.max(...probs));
        const stem = fileSlug(o.text);
        const image = planarImage(r.pixels, 0, p.channels, h, w);
        files.set(`${stem}.png`, await encodePng(image));
        files.set(`${stem}.npy`, inputNpy(r.pixels, r.dims, p.layout));
        for (const s of r.snapshots)
          files.set(`${stem}.step${s.step}.png`, await encodePng(planarImage(s.pixels, 0, p.channels, h, w)));
        const label = (k: number) => card.classes[k] ?? String(k);
        cells.push({
          image,
          caption: `${o.text} → ${label(top)} ${(100 * probs[top]).toFixed(0)}%`,
          pixelated: true,
        });
        records.push({
          target: o.text,
          png: `${stem}.png`,
          objective: { start: r.trace[0].objective, end: r.trace.at(-1)!.objective },
          logits: z,
          prediction: { class: label(top), probability: probs[top] },
          ms: Math.round(r.ms),
          trace: r.trace.map((t) => t.objective),
        });
      }
      files.set(
        'grid.png',
        await gridPng([{ cells }], {
          cell: 112,
          title: `${card.name}: ${flags.steps} steps of ${flags.optimizer}, ${flags.param}${options.decorrelate || (flags.param === 'fft' && p.channels === 3) ? ' (decorrelated colour)' : ''}`,
        }),
      );
      const summary = { model: flags.model, params: options, results: records };
      files.set('visualize.json', `${JSON.stringify(summary, null, 2)}\n`);
      writeAll(flags.out, files);
      if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else {
        for (const r of records)
          process.stdout.write(
            `${r.target.padEnd(24)} objective ${r.objective.start.toFixed(2)} → ${r.objective.end.toFixed(2)}, predicted ${r.prediction.class} (${(100 * r.prediction.probability).toFixed(1)}%)\n`,
          );
        process.stdout.write(`wrote ${files.size} files to ${flags.out}\n`);
      }
    } finally {
      await m.release();
    }
  });

  withCardFlags(
    program
      .command('attack')
      .description(
        'adversarial examples (FGSM, PGD; L∞ or L2; targeted or not); --eval sweeps ε over a dataset',
      )
      .option('-m, --model <model>', 'ONNX file or shipped model name', 'digits-gap')
      .option('-i, --image <files...>', 'image files')
      .option(
        '-d, --data <data>',
        "test samples of mnist, shapes or a folder (default with --eval: the card's dataset)",
      )
      .option('--count <n>', 'samples with --data', parsePositiveInt, 1)
      .option('--target <class>', 'class to reach (index or name); default: leave the true class')
      .addOption(new Option('--method <m>', 'attack').choices([...ATTACKS]).default('fgsm'))
      .option(
        '--eps <ε>',
        'budget in pixel units ([0, 1] range): max |δ| (linf) or ‖δ‖₂ (l2)',
        parsePositive,
        0.1,
      )
      .addOption(new Option('--norm <n>', 'perturbation norm').choices([...NORMS]).default('linf'))
      .option('--steps <n>', 'PGD steps', parsePositiveInt, 10)
      .option('--step-size <α>', 'PGD step (default 2.5·ε / steps)', parsePositive)
      .option('--seed <n>', 'PGD random start seed', parseNonNegativeInt, 0)
      .option('--eval', 'success rate over test samples for each ε of --eps-list')
      .option(
        '--eps-list <list>',
        'ε values for --eval',
        parseNumbers,
        [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4],
      )
      .option('--limit <n>', 'test samples for --eval', parsePositiveInt, 500)
      .option('-o, --out <dir>', 'output folder', 'attacks')
      .option('--json', 'print JSON'),
  ).action(
    async (
      flags: CardFlags & {
        model: string;
        image?: string[];
        data?: string;
        count: number;
        target?: string;
        method: AttackMethod;
        eps: number;
        norm: AttackNorm;
        steps: number;
        stepSize?: number;
        seed: number;
        eval?: boolean;
        epsList: number[];
        limit: number;
        out: string;
        json?: boolean;
      },
    ) => {
      const { model } = resolveModel(flags.model);
      const card = cardFor(model, flags);
      const p = card.preprocessing;
      const [h, w] = p.size;
      const c = p.channels;
      const per = c * h * w;
      const m = openModel(model, card.preprocessing.layout);
      const logits = card.tensors?.logits ?? m.outputNames[0];
      const classes = (await m.layers([1, c, h, w])).find((l) => l.tensor === logits)?.shape[1] ?? 0;
      const label = (k: number) => card.classes[k] ?? String(k);
      let target = -1;
      if (flags.target !== undefined) {
        target = card.classes.indexOf(flags.target);
        if (target < 0) target = /^\d+$/.test(flags.target) ? Number(flags.target) : -1;
        if (target < 0 || target >= classes)
          throw new Error(
            `--target "${flags.target}" is not a class: use 0-${classes - 1}${card.classes.length ? ` or a name (${card.classes.join(', ')})` : ''}`,
          );
      }
      const eps = flags.eval ? flags.epsList : [flags.eps];
      const bad = eps.find((e) => !(e > 0 && (flags.norm === 'l2' || e <= 1)));
      if (bad !== undefined)
        throw new Error(`ε ${bad} is out of range: linf ε is in (0, 1] (pixel units), l2 ε > 0`);
      const common = {
        method: flags.method,
        norm: flags.norm,
        steps: flags.steps,
        stepSize: flags.stepSize,
        seed: flags.seed,
        logits,
      };
      try {
        if (flags.eval) {
          const data = await scanData(flags.data ?? card.dataset ?? 'mnist', 'test', p);
          const indices = spreadIndices(data.source.length, flags.limit);
          const n = indices.length;
          const pixels = new Float32Array(n * per);
          const labels: number[] = [];
          for (const [i, index] of indices.entries()) {
            const sample = await data.source.load(index);
            pixels.set(sample.image, i * per);
            labels.push(sample.label);
          }
          if (labels.some((l) => l < 0))
            throw new Error('--eval needs labelled data (an image folder with one subfolder per class)');
          const targets = labels.map(() => target);
          const rows = [];
          for (const e of eps) {
            const r = await attack(m, p, pixels, labels, { ...common, eps: e, targets });
            const correct = r.before.map((b, i) => b === labels[i] && targets[i] !== labels[i]);
            const hits = r.success.filter((s, i) => s && correct[i]).length;
            rows.push({
              eps: e,
              attacked: correct.filter(Boolean).length,
              successRate: hits / Math.max(1, correct.filter(Boolean).length),
              meanL2: r.l2.reduce((a, b) => a + b, 0) / n,
            });
          }
          const summary = {
            model: flags.model,
            samples: n,
            ...common,
            target: target >= 0 ? label(target) : null,
            rows,
          };
          writeAll(flags.out, new Map([['attack-eval.json', `${JSON.stringify(summary, null, 2)}\n`]]));
          if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
          else {
            process.stdout.write(
              `${flags.method} ${flags.norm}${target >= 0 ? ` → ${label(target)}` : ''} on ${n} test samples (success among correctly classified)\n   ε      success   mean ‖δ‖₂\n`,
            );
            for (const r of rows)
              process.stdout.write(
                `${r.eps.toFixed(3).padStart(6)}   ${(100 * r.successRate).toFixed(1).padStart(6)}%   ${r.meanL2.toFixed(2)}\n`,
              );
          }
          return;
        }
        const inputs = await inputsFrom({ image: flags.image, data: flags.data, count: flags.count }, card);
        const n = inputs.stems.length;
        const pixels = new Float32Array(n * per);
        for (let i = 0; i < n; i++)
          pixels.set(
            denormalize(inputs.input.data.subarray(i * per, (i + 1) * per) as Float32Array, c, p.mean, p.std),
            i * per,
          );
        // Untargeted attacks leave the true class when known, else the model's prediction.
        const r = await attack(m, p, pixels, inputs.labels, {
          ...common,
          eps: flags.eps,
          targets: new Array(n).fill(target),
        });
        const top3 = (z: Float32Array) =>
          topClasses({ dtype: 'float32', dims: [n, classes], data: z }, card.classes, 3).map((row) =>
            row.map((t) => ({ class: t.label, probability: t.probability })),
          );
        const beforeTop = top3(r.logitsBefore);
        const afterTop = top3(r.logitsAfter);
        const files = new Map<string, Uint8Array | string>();
        const records = [];
        const rows = [];
        const lut = colormap('diverging');
        for (const [i, stem] of inputs.stems.entries()) {
          const delta = new Float32Array(h * w);
          for (let j = 0; j < h * w; j++) {
            let s = 0;
            for (let ch = 0; ch < c; ch++)
              s += r.pixels[i * per + ch * h * w + j] - pixels[i * per + ch * h * w + j];
            delta[j] = 0.5 + (0.5 * s) / c / Math.max(1e-12, flags.norm === 'linf' ? flags.eps : r.linf[i]);
          }
          const advImage = planarImage(r.pixels, i, c, h, w);
          const deltaImage = heatImage(delta, h, w, lut);
          files.set(`${stem}.adversarial.png`, await encodePng(advImage));
          files.set(`${stem}.perturbation.png`, await encodePng(deltaImage));
          files.set(
            `${stem}.adversarial.npy`,
            inputNpy(r.pixels.subarray(i * per, (i + 1) * per), [1, c, h, w], card.preprocessing.layout),
          );
          const record = {
            source: inputs.sources[i],
            method: flags.method,
            norm: flags.norm,
            eps: flags.eps,
            target: target >= 0 ? label(target) : null,
            before: beforeTop[i],
            after: afterTop[i],
            success: r.success[i],
            linf: r.linf[i],
            l2: r.l2[i],
          };
          files.set(`${stem}.attack.json`, `${JSON.stringify(record, null, 2)}\n`);
          records.push(record);
          rows.push({
            label: stem,
            cells: [
              {
                image: inputs.images[i],
                caption: `${record.before[0].class} ${(100 * record.before[0].probability).toFixed(0)}%`,
                pixelated: true,
              },
              { image: deltaImage, caption: `‖δ‖∞ ${r.linf[i].toFixed(3)}`, pixelated: true },
              {
                image: advImage,
                caption: `${record.after[0].class} ${(100 * record.after[0].probability).toFixed(0)}%`,
                pixelated: true,
              },
            ],
          });
        }
        files.set(
          'grid.png',
          await gridPng(rows, {
            cell: 112,
            headers: ['original', 'perturbation', 'adversarial'],
            title: `${flags.method} ${flags.norm} ε ${flags.eps}`,
          }),
        );
        writeAll(flags.out, files);
        if (flags.json) process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
        else
          for (const r2 of records)
            process.stdout.write(
              `${r2.source}: ${r2.before[0].class} (${(100 * r2.before[0].probability).toFixed(1)}%) → ${r2.after[0].class} (${(100 * r2.after[0].probability).toFixed(1)}%), ‖δ‖∞ ${r2.linf.toFixed(3)}, ‖δ‖₂ ${r2.l2.toFixed(2)}${r2.success ? '' : ' (attack failed)'}\n`,
            );
      } finally {
        await m.release();
      }
    },
  );
}
