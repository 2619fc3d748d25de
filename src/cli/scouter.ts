/** `convlens scouter train`: a SCOUTER slot-attention classifier on any ONNX backbone. */

import { join } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { runScouterJob } from '../train/scouterJob.js';
import { findScouterRecipe, SCOUTER_RECIPES } from '../train/scouterRecipes.js';
import {
  cardFor,
  modelsDir,
  parseNonNegativeInt,
  parsePositive,
  parsePositiveInt,
  resolveModel,
  trainingProgress,
} from './common.js';

function parseLambda(value: string): 1 | -1 {
  if (value === '1' || value === '+1') return 1;
  if (value === '-1') return -1;
  throw new InvalidArgumentError(`λ must be +1 (SCOUTER+) or -1 (SCOUTER−), got "${value}"`);
}

interface ScouterFlags {
  recipe?: string;
  backbone?: string;
  layer?: string;
  data?: string;
  lambda?: 1 | -1;
  slotsPerClass?: number;
  areaWeight?: number;
  hidden?: number;
  iterations?: number;
  fineTune?: number;
  epochs?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  out?: string;
  quiet?: boolean;
  json?: boolean;
}

export function addScouterCommands(program: Command): void {
  program
    .command('scouter')
    .description(
      'SCOUTER: slot-attention classifiers whose attention explains "why" (λ +1) and "why not" (λ −1)',
    )
    .command('train')
    .description('train a SCOUTER head on a backbone’s feature map (backbone frozen unless --fine-tune)')
    .addOption(
      new Option('--recipe <name>', 'recipe of a shipped SCOUTER model').choices(
        SCOUTER_RECIPES.map((r) => r.name),
      ),
    )
    .option('--backbone <model>', 'backbone: ONNX file or shipped model name')
    .option(
      '--layer <tensor>',
      'the backbone’s spatial feature map the head reads (default: the card’s features)',
    )
    .option('-d, --data <data>', 'mnist, shapes, or an image folder with class subfolders')
    .option('--lambda <±1>', '+1: SCOUTER+ (evidence for), -1: SCOUTER− (evidence against)', parseLambda)
    .option('--slots-per-class <n>', 'slots per class (default 1)', parsePositiveInt)
    .option('--area-weight <w>', 'weight of the area loss, mean attention (default 1)', parsePositive)
    .option('--hidden <d>', 'slot width, even (default 64)', parsePositiveInt)
    .option('--iterations <t>', 'slot-attention iterations (default 3)', parsePositiveInt)
    .option('--fine-tune <n>', 'also train the last n convs of the backbone (default 0)', parseNonNegativeInt)
    .option('--epochs <n>', 'epochs (default 12)', parsePositiveInt)
    .option('--batch <n>', 'batch size (default 64)', parsePositiveInt)
    .option('--lr <x>', 'peak Adam learning rate (default 1e-3)', parsePositive)
    .option('--seed <n>', 'random seed (default 0)', parseNonNegativeInt)
    .option('-o, --out <file>', 'output .onnx (default for --recipe: models/NAME.onnx)')
    .option('-q, --quiet', 'no progress output')
    .option('--json', 'print the result as JSON')
    .action(async (flags: ScouterFlags) => {
      const recipe = flags.recipe ? findScouterRecipe(flags.recipe) : undefined;
      if (!recipe && (!flags.backbone || !flags.data))
        throw new Error('give --backbone MODEL and --data DATA (or --recipe NAME)');
      if (!recipe && !flags.out) throw new Error('give --out FILE.onnx for the trained model');
      const source = flags.backbone ?? recipe!.backbone;
      const { model } = resolveModel(source);
      const card = cardFor(model, {});
      const layer = flags.layer ?? recipe?.layer ?? card.tensors?.features;
      if (!layer) throw new Error(`the backbone's card names no feature map; give --layer`);
      const lambda = flags.lambda ?? recipe?.lambda ?? 1;
      const name = recipe?.name ?? `${card.name}-scouter${lambda > 0 ? '+' : '-'}`;
      const out = flags.out ?? join(modelsDir(), `${name}.onnx`);
      const progress = trainingProgress(flags.quiet || flags.json);
      const r = await runScouterJob({
        backbone: model,
        card,
        source,
        layer,
        dataset: flags.data ?? recipe!.dataset,
        out,
        name,
        lambda,
        slotsPerClass: flags.slotsPerClass ?? recipe?.slotsPerClass ?? 1,
        areaWeight: flags.areaWeight ?? recipe?.areaWeight ?? 1,
        hidden: flags.hidden ?? recipe?.hidden ?? 64,
        iterations: flags.iterations ?? recipe?.iterations ?? 3,
        fineTune: flags.fineTune ?? recipe?.fineTune ?? 0,
        epochs: flags.epochs ?? recipe?.epochs ?? 12,
        batchSize: flags.batch ?? recipe?.batchSize ?? 64,
        lr: flags.lr ?? recipe?.lr ?? 1e-3,
        seed: flags.seed ?? recipe?.seed ?? 0,
        recipe: recipe?.name,
        onProgress: progress.onProgress,
      });
      progress.stop();
      const summary = {
        model: out,
        explanation: lambda > 0 ? 'scouter+' : 'scouter-',
        testAccuracy: r.test.accuracy,
        testSamples: r.test.total,
        backboneAccuracy: r.backboneAccuracy,
        bestEpoch: r.bestEpoch,
        seconds: Math.round(r.seconds),
      };
      if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else
        process.stdout.write(
          `wrote ${out}: test accuracy ${(100 * r.test.accuracy).toFixed(2)}% on ${r.test.total} images${
            r.backboneAccuracy === undefined
              ? ''
              : ` (the backbone's own head: ${(100 * r.backboneAccuracy).toFixed(2)}%)`
          }, best epoch ${r.bestEpoch}, ${summary.seconds} s\n`,
        );
    });
}
