/** `convlens style train`: feed-forward style networks trained with a perceptual loss. */

import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { SingleBar } from 'cli-progress';
import { type Command, Option } from 'commander';
import { decodeImageFit, IMAGE_EXTENSIONS, isImageFile } from '../data/node.js';
import type { Preprocessing } from '../data/preprocess.js';
import { type StyleCard, withStyleCard } from '../data/styleCard.js';
import {
  checkLossLayers,
  DEFAULT_PERCEPTUAL_WEIGHTS,
  type PerceptualLossSpec,
} from '../methods/synthesis/perceptualLoss.js';
import type { SourceImage } from '../methods/synthesis/texture.js';
import { writeModelFile } from '../node.js';
import type { ConvlensModel } from '../runtime/model.js';
import { nodeBackend } from '../runtime/node.js';
import { findStyleRecipe, STYLE_RECIPES } from '../train/styleRecipes.js';
import { trainStyleNetwork } from '../train/styleTraining.js';
import { modelsDir, parseNonNegativeInt, parseNumbers, parsePositive, parsePositiveInt } from './common.js';
import { featureModel } from './imageSynthesis.js';
import { fileStem } from './inspect.js';
import { cliSessionOptions } from './runtime.js';

/** The bundled photos: the default content of `style train` and the recipes' images. */
export const photosDir = () => join(dirname(modelsDir()), 'assets', 'photos');

/** Image files from files and folders (a folder's images, not its subfolders'), sorted per folder. */
export function imageFiles(paths: readonly string[], flag: string): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (!existsSync(p)) throw new Error(`${flag}: "${p}" does not exist`);
    if (statSync(p).isDirectory()) {
      const found = readdirSync(p)
        .filter((f) => !f.startsWith('.') && isImageFile(f))
        .sort()
        .map((f) => join(p, f));
      if (found.length === 0)
        throw new Error(`${flag}: folder "${p}" holds no images (${IMAGE_EXTENSIONS.join(', ')})`);
      out.push(...found);
    } else out.push(p);
  }
  return out;
}

async function readImages(files: readonly string[], maxSide: number, flag: string): Promise<SourceImage[]> {
  return Promise.all(
    files.map((f) =>
      decodeImageFit(f, 3, maxSide).catch((e: Error) => {
        throw new Error(`${flag}: ${e.message}`);
      }),
    ),
  );
}

interface TrainFlags {
  recipe?: string;
  style?: string[];
  content?: string[];
  lossModel?: string;
  randomFeatures?: boolean;
  rfSizes: number[];
  rfFilters: number;
  normalize?: string;
  mean?: number[];
  std?: number[];
  contentLayer?: string;
  styleLayers?: string[];
  weights?: number[];
  tv?: number;
  size?: number;
  styleSize?: number;
  contentSize?: number;
  batch?: number;
  steps?: number;
  lr?: number;
  width?: number;
  blocks?: number;
  seed?: number;
  snapshotEvery: number;
  out?: string;
  quiet?: boolean;
  json?: boolean;
}

interface LossNetwork {
  model: ConvlensModel;
  preprocessing: Preprocessing;
  /** Spatial ReLU layers in order (the default content and style layers). */
  layers: string[];
  description: Record<string, unknown>;
}

async function lossNetwork(
  flags: TrainFlags,
  size: number,
  random: { sizes: number[]; filters: number; seed: number },
): Promise<LossNetwork> {
  if (flags.lossModel && flags.randomFeatures)
    throw new Error('give --loss-model or --random-features, not both');
  const f = await featureModel({
    model: flags.lossModel ?? '',
    randomFeatures: !flags.lossModel,
    rfSizes: random.sizes,
    rfFilters: random.filters,
    seed: random.seed,
    size: [size, size],
    channels: '3',
    normalize: flags.normalize,
    mean: flags.mean,
    std: flags.std,
  });
  const p = f.card.preprocessing;
  return {
    model: f.model,
    // openModel gave the network an NCHW input whatever its card's layout.
    preprocessing: { ...p, layout: 'nchw' },
    layers: f.layers,
    description: flags.lossModel
      ? { network: flags.lossModel, mean: p.mean, std: p.std }
      : { network: 'random-features', ...random },
  };
}

function trainProgressBar(quiet: boolean) {
  const bar =
    process.stderr.isTTY && !quiet
      ? new SingleBar({
          format: 'style train [{bar}] {value}/{total} loss {loss} ({eta_formatted} left)',
          stream: process.stderr,
          hideCursor: true,
        })
      : undefined;
  let started = false;
  return {
    onProgress(step: number, steps: number, loss: number) {
      if (quiet) return;
      if (bar) {
        if (!started) bar.start(steps, step, { loss: loss.toFixed(3) });
        else bar.update(step, { loss: loss.toFixed(3) });
        started = true;
      } else if (step % 100 === 0 || step === steps)
        process.stderr.write(`style train step ${step}/${steps}  loss ${loss.toFixed(4)}\n`);
    },
    stop() {
      if (bar && started) bar.stop();
    },
  };
}

async function trainAction(flags: TrainFlags, cmd: Command): Promise<void> {
  const recipe = flags.recipe ? findStyleRecipe(flags.recipe) : undefined;
  if (!recipe && !flags.style) throw new Error('give --style IMAGE... (or --recipe NAME)');
  if (!recipe && !flags.out) throw new Error('give --out FILE.onnx for the trained network');
  const inPhotos = (f: string) => join(photosDir(), f);
  const out = flags.out ?? join(modelsDir(), `${recipe!.name}.onnx`);
  if (extname(out).toLowerCase() !== '.onnx') throw new Error(`--out must name an .onnx file, got "${out}"`);
  const size = flags.size ?? recipe?.size ?? 256;
  if (size % 4 !== 0) throw new Error(`--size must be a multiple of 4, got ${size}`);
  const styleFiles = flags.style ?? recipe!.styles.map(inPhotos);
  const styleSize = flags.styleSize ?? recipe?.styleSize ?? 2 * size;
  const contentSize = flags.contentSize ?? recipe?.contentSize ?? 2 * size;
  const weights = flags.weights ?? [
    recipe?.loss.contentWeight ?? DEFAULT_PERCEPTUAL_WEIGHTS.contentWeight,
    recipe?.loss.styleWeight ?? DEFAULT_PERCEPTUAL_WEIGHTS.styleWeight,
  ];
  if (weights.length !== 2 || weights.some((v) => !(v >= 0)))
    throw new Error(`--weights takes two numbers ≥ 0 (content, style), got ${weights.join(',')}`);
  const tv = flags.tv ?? recipe?.loss.tvWeight ?? DEFAULT_PERCEPTUAL_WEIGHTS.tvWeight;
  if (!(tv >= 0)) throw new Error(`--tv must be ≥ 0, got ${tv}`);
  // A recipe's random features unless the flags were given.
  const given = (option: string) => cmd.getOptionValueSource(option) === 'cli';
  const random = {
    sizes: recipe && !given('rfSizes') ? recipe.randomFeatures.sizes : flags.rfSizes,
    filters: recipe && !given('rfFilters') ? recipe.randomFeatures.filters : flags.rfFilters,
    seed: recipe?.randomFeatures.seed ?? 0,
  };

  const styles = await readImages(styleFiles, styleSize, '--style');
  const styleSet = new Set(styleFiles.map((f) => basename(f)));
  const contentFiles = flags.content
    ? imageFiles(flags.content, '--content')
    : recipe
      ? recipe.content.map(inPhotos)
      : imageFiles([photosDir()], 'bundled photos').filter((f) => !styleSet.has(basename(f)));
  if (contentFiles.length === 0) throw new Error('--content: no content images left');
  const content = await readImages(contentFiles, contentSize, '--content');
  const small = content.findIndex((c) => Math.min(...c.size) < 4);
  if (small >= 0) throw new Error(`--content: "${contentFiles[small]}" is too small to crop`);

  const net = await lossNetwork(flags, size, random);
  try {
    const middle = net.layers[Math.floor(net.layers.length / 2)];
    const loss: PerceptualLossSpec = {
      contentLayer: flags.contentLayer ?? recipe?.loss.contentLayer ?? middle,
      styleLayers: flags.styleLayers ?? recipe?.loss.styleLayers ?? net.layers,
      contentWeight: weights[0],
      styleWeight: weights[1],
      tvWeight: tv,
    };
    if (!loss.contentLayer || loss.styleLayers.length === 0)
      throw new Error(
        'the loss network has no spatial ReLU layers to default to; give --content-layer and --style-layers',
      );
    await checkLossLayers(net.model, { ...net.preprocessing, size: [size, size] }, loss);
    const steps = flags.steps ?? recipe?.steps ?? 2000;
    const bar = trainProgressBar(Boolean(flags.quiet || flags.json));
    const settings = {
      steps,
      batchSize: flags.batch ?? recipe?.batchSize ?? 4,
      lr: flags.lr ?? recipe?.lr ?? 1e-3,
      width: flags.width ?? recipe?.width ?? 16,
      residualBlocks: flags.blocks ?? recipe?.residualBlocks ?? 5,
      seed: flags.seed ?? recipe?.seed ?? 0,
    };
    const styleNames = styleFiles.map(fileStem);
    const cardOf = (seconds: number, finalLoss: number | undefined, doneSteps: number): StyleCard => ({
      name: basename(out, extname(out)),
      styles: styleFiles.map((f, k) => ({ name: styleNames[k], source: basename(f) })),
      size,
      loss: { ...net.description, ...loss },
      training: {
        ...settings,
        steps: doneSteps,
        recipe: recipe?.name,
        styleSize,
        contentSize,
        content: contentFiles.map((f) => basename(f)),
        seconds: Math.round(seconds),
        finalLoss,
      },
    });
    const started = performance.now();
    const snapshotPath = (step: number) => `${out.slice(0, -extname(out).length)}.step${step}.onnx`;
    const r = await trainStyleNetwork(
      {
        styles,
        content,
        lossModel: net.model,
        preprocessing: net.preprocessing,
        loss,
        size,
        ...settings,
        session: cliSessionOptions(),
        snapshotEvery: flags.snapshotEvery,
        onSnapshot: (model, step) =>
          writeModelFile(
            snapshotPath(step),
            withStyleCard(model, cardOf((performance.now() - started) / 1000, undefined, step)),
          ),
        onProgress: (p) => bar.onProgress(p.step, p.steps, p.objective),
      },
      nodeBackend(),
    );
    bar.stop();
    const tail = r.history.slice(-Math.min(50, r.history.length));
    const finalLoss = tail.reduce((s, h) => s + h.loss, 0) / tail.length;
    const card = cardOf(r.seconds, finalLoss, steps);
    writeModelFile(out, withStyleCard(r.model, card));
    const summary = { out, styles: card.styles, seconds: card.training?.seconds, finalLoss, loss: card.loss };
    if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else
      process.stdout.write(
        `trained ${styleNames.length} style${styleNames.length > 1 ? 's' : ''} (${styleNames.join(', ')}) in ${card.training?.seconds} s; perceptual loss (mean of the last ${tail.length} steps) ${finalLoss.toFixed(4)}\nwrote ${out}\n`,
      );
  } finally {
    await net.model.release();
  }
}

export function addStyleTrainCommand(program: Command): void {
  const style = program.commands.find((c) => c.name() === 'style');
  if (!style) throw new Error('the style command must be registered before its train subcommand');
  // Options after `train` belong to it (the parent has its own --style and --content).
  style.enablePositionalOptions();
  style
    .command('train')
    .description(
      'train a feed-forward style network (one or several styles; conditional instance norm) with a perceptual loss',
    )
    .addOption(
      new Option('--recipe <name>', 'recipe of a shipped style network').choices(
        STYLE_RECIPES.map((r) => r.name),
      ),
    )
    .option('--style <images...>', 'style images (one network holds them all, in this order)')
    .option(
      '--content <paths...>',
      'content images or folders (default: the bundled photos that are not styles)',
    )
    .option('--loss-model <model>', 'loss network: an ONNX CNN taking RGB NCHW (default: random features)')
    .option(
      '--random-features',
      'use the random multi-scale filter network as the loss network (the default)',
    )
    .option('--rf-sizes <list>', 'filter sizes of the random network', parseNumbers, [3, 5, 7, 11])
    .option('--rf-filters <n>', 'filters per size of the random network', parsePositiveInt, 64)
    .option('--normalize <name>', 'mean/std preset of a --loss-model without a card')
    .option('--mean <m>', 'per-channel mean of a --loss-model without a card', parseNumbers)
    .option('--std <s>', 'per-channel std of a --loss-model without a card', parseNumbers)
    .option(
      '--content-layer <layer>',
      'loss-network layer whose features to keep (default: the middle spatial ReLU)',
    )
    .option(
      '--style-layers <list>',
      'layers whose Grams to match (default: every spatial ReLU)',
      (v: string) => v.split(','),
    )
    .option('--weights <c,s>', 'content weight, style weight per layer (default 1,10)', parseNumbers)
    .option('--tv <t>', 'total-variation weight (default 0.1)', Number)
    .option(
      '--size <px>',
      'side of the square training crops, a multiple of 4 (default 256)',
      parsePositiveInt,
    )
    .option(
      '--style-size <px>',
      'longer side the style images are scaled to (default 2 × size)',
      parsePositiveInt,
    )
    .option(
      '--content-size <px>',
      'longer side content images are scaled to before cropping (default 2 × size)',
      parsePositiveInt,
    )
    .option('--batch <n>', 'crops per step (default 4)', parsePositiveInt)
    .option('--steps <n>', 'training steps (default 2000)', parsePositiveInt)
    .option('--lr <x>', 'peak Adam learning rate (default 1e-3)', parsePositive)
    .option('--width <n>', 'channels of the first conv (default 16)', parsePositiveInt)
    .option('--blocks <n>', 'residual blocks (default 5)', parseNonNegativeInt)
    .option('--seed <n>', 'random seed (default 0)', parseNonNegativeInt)
    .option(
      '--snapshot-every <n>',
      'also write OUT.stepK.onnx every n steps (0: never)',
      parseNonNegativeInt,
      0,
    )
    .option('-o, --out <file>', 'output .onnx (default for --recipe: models/NAME.onnx)')
    .option('-q, --quiet', 'no progress output')
    .option('--json', 'print the result as JSON')
    .action(trainAction);
}
