/** `convlens train` and `convlens evaluate`. */

import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { loadDatasetSplits } from '../data/node.js';
import { NORMALIZATIONS, type NormalizationName, preprocessing } from '../data/preprocess.js';
import { nodeBackend } from '../runtime/node.js';
import { gapClassifier, vggClassifier } from '../train/architectures.js';
import { evaluate } from '../train/evaluate.js';
import { runGanRecipe, runSegmenterRecipe } from '../train/ganJob.js';
import { GAN_RECIPE_NAMES } from '../train/ganRecipes.js';
import { recipeJob, runTrainJob, type TrainJob } from '../train/node.js';
import { findRecipe, RECIPES, smallConvStages } from '../train/recipes.js';
import {
  type CardFlags,
  cardFor,
  modelsDir,
  pad,
  parseNonNegativeInt,
  parsePositive,
  parsePositiveInt,
  parseSize,
  resolveModel,
  trainingProgress,
  withCardFlags,
} from './common.js';
import { cliSessionOptions, openModel } from './runtime.js';

interface TrainFlags {
  recipe?: string;
  data?: string;
  out?: string;
  arch: 'gap' | 'vgg';
  size: number[];
  channels: string;
  normalize: string;
  epochs?: number;
  steps?: number;
  batch?: number;
  lr?: number;
  optimizer?: 'adam' | 'sgd';
  seed?: number;
  quiet?: boolean;
  json?: boolean;
}

/** `train --recipe shapes-gan | shapes-seg`: the GAN-dissection models (steps, not epochs). */
async function trainGanRecipe(flags: TrainFlags): Promise<void> {
  if (flags.epochs)
    throw new Error(`--epochs does not apply to ${flags.recipe}, which trains for a number of steps`);
  const out = flags.out ?? join(modelsDir(), `${flags.recipe}.onnx`);
  const overrides = {
    ...(flags.steps ? { steps: flags.steps } : {}),
    ...(flags.batch ? { batchSize: flags.batch } : {}),
    ...(flags.lr ? { lr: flags.lr } : {}),
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
    session: cliSessionOptions(),
  };
  const quiet = flags.quiet || flags.json;
  const every = (step: number, steps: number) => !quiet && (step % 100 === 0 || step === steps);
  let summary: Record<string, unknown>;
  if (flags.recipe === 'shapes-gan') {
    const r = await runGanRecipe(out, overrides, nodeBackend(), (p) => {
      if (every(p.step, p.steps))
        process.stderr.write(
          `step ${p.step}/${p.steps}: loss D ${p.lossD.toFixed(3)}, G ${p.lossG.toFixed(3)}, D(real) ${p.realScore.toFixed(2)}, D(fake) ${p.fakeScore.toFixed(2)}\n`,
        );
    });
    summary = { model: out, seconds: Math.round(r.seconds) };
  } else {
    const r = await runSegmenterRecipe(out, overrides, nodeBackend(), (p) => {
      if (every(p.step, p.steps))
        process.stderr.write(`step ${p.step}/${p.steps}: loss ${p.loss.toFixed(4)}\n`);
    });
    summary = {
      model: out,
      pixelAccuracy: r.scores.pixelAccuracy,
      meanIoU: r.scores.meanIoU,
      seconds: Math.round(r.seconds),
    };
  }
  if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else
    process.stdout.write(
      `wrote ${out} (${summary.seconds} s)${'meanIoU' in summary ? `: test pixel accuracy ${(100 * (summary.pixelAccuracy as number)).toFixed(1)}%, mean IoU ${(summary.meanIoU as number).toFixed(3)}` : ''}\n`,
    );
}

export function addTrainCommands(program: Command): void {
  program
    .command('train')
    .description(
      'train a shipped model from its recipe, or a new classifier on an image folder (one subfolder per class)',
    )
    .addOption(
      new Option('-r, --recipe <name>', 'recipe of a shipped model').choices([
        ...RECIPES.map((r) => r.name),
        ...GAN_RECIPE_NAMES,
      ]),
    )
    .option('-d, --data <folder>', 'image folder with one subfolder per class (instead of --recipe)')
    .option('-o, --out <file>', 'output ONNX file (default: models/RECIPE.onnx, or model.onnx)')
    .addOption(new Option('--arch <kind>', 'architecture for --data').choices(['gap', 'vgg']).default('gap'))
    .option('-s, --size <H,W>', 'input size for --data', parseSize, [64, 64])
    .addOption(new Option('--channels <n>', 'input channels for --data').choices(['1', '3']).default('3'))
    .addOption(
      new Option('--normalize <name>', 'normalisation for --data')
        .choices(Object.keys(NORMALIZATIONS))
        .default('symmetric'),
    )
    .option('--epochs <n>', "epochs (default: the recipe's, or 20)", parsePositiveInt)
    .option(
      '--steps <n>',
      "training steps of shapes-gan and shapes-seg (default: the recipe's)",
      parsePositiveInt,
    )
    .option('--batch <n>', 'batch size', parsePositiveInt)
    .option('--lr <x>', 'peak learning rate', parsePositive)
    .addOption(new Option('--optimizer <name>', 'optimiser').choices(['adam', 'sgd']))
    .option('--seed <n>', 'random seed', parseNonNegativeInt)
    .option('-q, --quiet', 'no progress output')
    .option('--json', 'print the result as JSON')
    .action(async (flags: TrainFlags) => {
      if (!!flags.recipe === !!flags.data)
        throw new Error('give exactly one of --recipe NAME or --data FOLDER');
      const ganRecipe = (GAN_RECIPE_NAMES as readonly string[]).includes(flags.recipe ?? '');
      if (flags.steps && !ganRecipe)
        throw new Error('--steps applies to shapes-gan and shapes-seg; classifiers train for --epochs');
      if (ganRecipe) {
        await trainGanRecipe(flags);
        return;
      }
      const overrides = {
        ...(flags.epochs ? { epochs: flags.epochs } : {}),
        ...(flags.batch ? { batchSize: flags.batch } : {}),
        ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
      };
      let job: TrainJob;
      if (flags.recipe) {
        const recipe = findRecipe(flags.recipe);
        job = recipeJob(recipe, flags.out ?? join(modelsDir(), `${recipe.name}.onnx`), overrides);
        if (flags.lr || flags.optimizer)
          job.options.optimizer = {
            ...job.options.optimizer,
            ...(flags.lr ? { lr: flags.lr } : {}),
            ...(flags.optimizer ? { type: flags.optimizer } : {}),
          };
      } else {
        const prep = preprocessing(
          [flags.size[0], flags.size[1]],
          Number(flags.channels) as 1 | 3,
          flags.normalize as NormalizationName,
        );
        const splits = await loadDatasetSplits(flags.data!, prep);
        const classes = splits.train.classes.length;
        if (classes < 2)
          throw new Error(`data folder "${flags.data}" has ${classes} class subfolder; need at least 2`);
        const stages = smallConvStages(flags.arch === 'vgg');
        const common = { channels: prep.channels, size: prep.size, classes, stages, seed: flags.seed ?? 0 };
        job = {
          name: `${flags.arch}-${splits.train.name}`,
          dataset: flags.data!,
          architecture:
            flags.arch === 'gap'
              ? gapClassifier(common)
              : vggClassifier({ ...common, hidden: 128, dropout: 0.5 }),
          preprocessing: prep,
          options: {
            epochs: 20,
            batchSize: 32,
            optimizer: { type: flags.optimizer ?? 'adam', lr: flags.lr ?? 1e-3, weightDecay: 1e-4 },
            augmentation: { shift: Math.round(prep.size[0] / 16), flip: true },
            ...overrides,
          },
          out: flags.out ?? 'model.onnx',
          tensors: { input: 'input', logits: 'logits', features: 'features' },
          splits,
        };
      }
      const progress = trainingProgress(flags.quiet || flags.json);
      job.options.onProgress = progress.onProgress;
      const r = await runTrainJob(job);
      progress.stop();
      const summary = {
        model: job.out,
        testAccuracy: r.test.accuracy,
        testSamples: r.test.total,
        bestEpoch: r.result.bestEpoch,
        validationAccuracy: r.result.valAccuracy,
        seconds: Math.round(r.seconds),
      };
      if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else
        process.stdout.write(
          `wrote ${job.out}: test accuracy ${(100 * r.test.accuracy).toFixed(2)}% on ${r.test.total} images (best epoch ${r.result.bestEpoch}, ${summary.seconds} s)\n`,
        );
    });

  withCardFlags(
    program
      .command('evaluate')
      .description('top-1 accuracy and confusion matrix of a classifier on a test split')
      .option('-m, --model <model>', 'ONNX file or shipped model name', 'shapes-gap')
      .requiredOption(
        '-d, --data <data>',
        'mnist, shapes, or an image folder with class subfolders (every fifth image is test)',
      ),
  )
    .option('--json', 'print JSON')
    .action(async (flags: CardFlags & { model: string; data: string; json?: boolean }) => {
      const { model } = resolveModel(flags.model);
      const card = cardFor(model, flags);
      const splits = await loadDatasetSplits(flags.data, card.preprocessing);
      const m = openModel(model, card.preprocessing.layout);
      const e = await evaluate(m, splits.test, card.preprocessing, { logits: card.tensors?.logits });
      await m.release();
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ model: flags.model, data: flags.data, ...e }, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${flags.model} on ${flags.data} test split: ${(100 * e.accuracy).toFixed(2)}% (${e.correct}/${e.total})\n`,
      );
      const w = Math.max(6, ...e.classes.map((c) => c.length + 1));
      process.stdout.write(
        `\nconfusion (rows: truth, columns: predicted)\n${pad('', w)}${e.classes.map((c) => pad(c, w)).join('')}\n`,
      );
      e.confusion.forEach((row, i) => {
        process.stdout.write(`${pad(e.classes[i], w)}${row.map((v) => pad(String(v), w)).join('')}\n`);
      });
    });
}
