/** `convlens faithfulness`: every faithfulness metric and sanity check over every attribution method. */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { ModelCard } from '../data/card.js';
import { shuffledLabels, subset } from '../data/dataset.js';
import { loadDatasetSplits } from '../data/node.js';
import { imageCount } from '../jobs/shards.js';
import { METHOD_NAMES } from '../methods/attribution/index.js';
import { Explainer } from '../methods/attribution/pipeline.js';
import {
  CONFIDENCE_SUBSTRATE,
  DEFAULT_STEP,
  DEFAULT_SUBSTRATE,
  evaluateFaithfulness,
  type FaithfulnessReport,
  type FaithfulnessRequest,
  METRICS,
  ROAD_FRACTIONS,
  ROAD_NOISE,
  SCORES,
  SUBSTRATES,
  summarizeFaithfulness,
} from '../methods/evaluation/index.js';
import { chartSvg } from '../render/charts.js';
import { REDUCTIONS } from '../render/display.js';
import {
  faithfulnessCharts,
  faithfulnessHtml,
  faithfulnessMarkdown,
  faithfulnessSection,
  faithfulnessText,
} from '../render/faithfulness.js';
import { svgPng } from '../render/node.js';
import type { ConvlensModel } from '../runtime/model.js';
import { nodeBackend } from '../runtime/node.js';
import { findRecipe, RECIPES, type Recipe } from '../train/recipes.js';
import { train } from '../train/trainer.js';
import {
  parseNonNegativeInt,
  parsePositiveInt,
  stepProgress,
  trainingProgress,
  withCardFlags,
  writeAll,
} from './common.js';
import { withSampleOptions } from './explain.js';
import type { ExplainJob } from './explainJob.js';
import {
  explainerOptions,
  type FaithfulnessJobFlags,
  type FaithfulnessParts,
  faithfulnessJobOptions,
  faithfulnessKind,
  joinedMeasures,
  openFaithfulness,
} from './faithfulnessJob.js';
import type { ExplainInputs } from './inputs.js';
import { openModel } from './runtime.js';
import { isSharded, runShardedVerb, type ShardingFlags, withShardingFlags } from './sharding.js';

interface FaithfulnessFlags extends FaithfulnessJobFlags, ShardingFlags {
  dataRandomization?: number;
  out: string;
  resume?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/** Where an interrupted sharded run keeps its measures (in --out) for --resume. */
const PARTIAL_FILE = 'faithfulness.partial.json';

function parseStep(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0) || !Number.isFinite(n) || (n >= 1 && !Number.isInteger(n)))
    throw new InvalidArgumentError(
      `expected a fraction of the pixels in (0, 1) or a whole number of pixels ≥ 1, got "${value}"`,
    );
  return n;
}

function parseFractions(value: string): number[] {
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (parts.length === 0 || parts.some((f) => !(f > 0 && f < 1)))
    throw new InvalidArgumentError(`expected fractions in (0, 1) such as 0.1,0.5,0.9, got "${value}"`);
  return parts;
}

function parseNumberAtLeastZero(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0) || !Number.isFinite(n))
    throw new InvalidArgumentError(`expected a number ≥ 0, got "${value}"`);
  return n;
}

/** Run the metrics with the CLI's flags; shared by `faithfulness` and `report --faithfulness`. */
export async function runFaithfulness(
  m: ConvlensModel,
  card: ModelCard,
  inputs: ExplainInputs,
  options: Partial<FaithfulnessRequest> & {
    methods: string[];
    metrics: string[];
    batch?: number;
    quiet?: boolean;
  },
): Promise<FaithfulnessReport> {
  const progress = stepProgress(!!options.quiet);
  const explainer = new Explainer(m, inputs.input, {
    ...explainerOptions(card, options.batch, options.seed),
    onProgress: (p) => progress.onProgress(p),
  });
  try {
    return await evaluateFaithfulness(explainer, {
      ...options,
      masks: inputs.masks,
      onProgress: (p) => progress.onProgress({ method: p.stage, done: p.done, total: p.total }),
    });
  } finally {
    progress.stop();
  }
}

/**
 * The report's faithfulness section: every metric that applies, over the report's images, methods,
 * target, layer and parameters.
 */
export async function faithfulnessReportSection(
  m: ConvlensModel,
  card: ModelCard,
  inputs: ExplainInputs,
  job: ExplainJob,
): Promise<string> {
  const report = await runFaithfulness(m, card, inputs, {
    methods: job.methods,
    metrics: ['all'],
    target: job.targets[0]?.target,
    layer: job.layer,
    params: job.params,
    seed: job.seed,
    batch: job.batch,
    quiet: job.quiet,
  });
  const svgs = await Promise.all(faithfulnessCharts(report).map((c) => chartSvg(c.spec)));
  return faithfulnessSection(report, svgs);
}

export function addFaithfulnessCommands(program: Command): void {
  withShardingFlags(
    withCardFlags(
      withSampleOptions(
        program.command('faithfulness'),
        32,
        'test samples of shapes (masks for the pointing games), mnist or a folder (default: the card’s dataset)',
      )
        .description(
          'are the explanations right? deletion/insertion, confidence drop, ROAD, pointing games and weight-randomisation sanity checks for every method',
        )
        .option('--methods <list>', `comma-separated methods, or all: ${METHOD_NAMES.join(', ')}`, 'all')
        .option('--metrics <list>', `comma-separated metrics, or all: ${METRICS.join(', ')}`, 'all')
        .option('-l, --layer <tensor>', 'feature map for CAM-family methods')
        .option('-t, --target <target>', 'top (default), a class index or name', 'top')
        .addOption(
          new Option('--score <kind>', 'what the perturbation curves follow')
            .choices([...SCORES])
            .default('probability'),
        )
        .option(
          '--step <s>',
          'deletion/insertion step: a fraction of the pixels, or pixels',
          parseStep,
          DEFAULT_STEP,
        )
        .addOption(
          new Option('--deletion-substrate <kind>', 'removed pixels become')
            .choices([...SUBSTRATES])
            .default(DEFAULT_SUBSTRATE.deletion),
        )
        .addOption(
          new Option('--insertion-substrate <kind>', 'insertion starts from')
            .choices([...SUBSTRATES])
            .default(DEFAULT_SUBSTRATE.insertion),
        )
        .addOption(
          new Option('--confidence-substrate <kind>', 'what the map hides becomes (average drop)')
            .choices([...SUBSTRATES])
            .default(CONFIDENCE_SUBSTRATE),
        )
        .option(
          '--road-fractions <list>',
          'ROAD: fractions of pixels removed',
          parseFractions,
          ROAD_FRACTIONS,
        )
        .option(
          '--road-noise <x>',
          'ROAD: imputation noise in model-input units',
          parseNumberAtLeastZero,
          ROAD_NOISE,
        )
        .option(
          '--tolerance <px>',
          'pointing game: tolerance in pixels (default 15 at 224 px, scaled)',
          parseNumberAtLeastZero,
        )
        .option(
          '--maps <files...>',
          'also score maps made elsewhere: .npy, (N, H, W) or (N, C, H, W), named by file stem',
        )
        .addOption(
          new Option('--reduce <how>', 'how --maps with channels become one plane')
            .choices([...REDUCTIONS])
            .default('abs-max'),
        )
        .option(
          '--data-randomization <epochs>',
          "also retrain the model's recipe for this many epochs on shuffled labels (no augmentation) and compare its maps (Adebayo et al. 2018, §3.2)",
          parsePositiveInt,
        )
        .option('--batch <n>', 'rows per forward/backward pass', parsePositiveInt, 32)
        .option(
          '--seed <n>',
          'seed of tie orders, ROAD noise, random weights and SmoothGrad',
          parseNonNegativeInt,
          0,
        )
        .option('-o, --out <dir>', 'output folder', 'faithfulness')
        .option('--resume', 'continue the measures an interrupted --workers/--queue run kept in --out')
        .option('--json', 'print faithfulness.json to stdout')
        .option('-q, --quiet', 'no progress output'),
    ),
  ).action(async (flags: FaithfulnessFlags) => {
    // A model without a recipe is refused before any sample is read.
    let recipe: Recipe | undefined;
    const { model, card, inputs, request } = await openFaithfulness(flags, (c) => {
      if (flags.dataRandomization) recipe = recipeOf(c);
    });
    const quiet = !!(flags.quiet || flags.json);
    const shuffled =
      recipe && flags.dataRandomization
        ? await trainOnShuffledLabels(recipe, flags.dataRandomization, flags.seed, quiet)
        : undefined;
    const partialFile = join(flags.out, PARTIAL_FILE);
    let report: FaithfulnessReport;
    if (isSharded(flags)) {
      const started = performance.now();
      let resume: FaithfulnessParts | undefined;
      if (existsSync(partialFile)) {
        if (!flags.resume)
          throw new Error(`"${partialFile}" exists; pass --resume to continue it, or choose another --out`);
        resume = faithfulnessKind.parse(readFileSync(partialFile, 'utf8'), `"${partialFile}"`);
      }
      const save = (p: FaithfulnessParts) =>
        writeAll(flags.out, new Map([[PARTIAL_FILE, faithfulnessKind.serialize(p)]]));
      const run = await runShardedVerb(
        faithfulnessKind,
        faithfulnessJobOptions(flags, shuffled?.model),
        { ...flags, quiet },
        { resume, checkpoint: save, what: `the measures so far are kept in ${partialFile}` },
      );
      if (!run.finished) {
        process.stdout.write(
          `interrupted: ${imageCount(run.result.covered)}/${inputs.stems.length} images measured → ${partialFile}; run again with --resume to finish\n`,
        );
        process.exitCode = 130;
        return;
      }
      report = summarizeFaithfulness(
        joinedMeasures(run.result, inputs.stems.length),
        performance.now() - started,
      );
    } else {
      const m = openModel(model, card.preprocessing.layout);
      const noise = shuffled ? openModel(shuffled.model, card.preprocessing.layout) : undefined;
      try {
        report = await runFaithfulness(m, card, inputs, {
          ...request,
          dataRandomized: noise,
          batch: flags.batch,
          quiet,
        });
      } finally {
        await m.release();
        await noise?.release();
      }
    }
    const charts = faithfulnessCharts(report);
    const svgs = await Promise.all(charts.map((c) => chartSvg(c.spec)));
    const files = new Map<string, Uint8Array | string>();
    const json = `${JSON.stringify(
      {
        model: card.name,
        sources: inputs.sources,
        ...report,
        ...(shuffled ? { dataRandomizationTraining: shuffled.training } : {}),
      },
      null,
      2,
    )}\n`;
    files.set('faithfulness.json', json);
    files.set('faithfulness.md', `${faithfulnessMarkdown(report)}\n`);
    for (const [k, c] of charts.entries()) {
      files.set(`${c.name}.svg`, svgs[k]);
      files.set(`${c.name}.png`, await svgPng(svgs[k]));
    }
    const facts: [string, string][] = [
      ['model', card.name],
      ['images', `${report.samples} (${flags.data ?? card.dataset ?? 'given'})`],
      ['score', String(report.params.score)],
      ['time', `${(report.ms / 1000).toFixed(1)} s`],
    ];
    if (report.layer) facts.splice(2, 0, ['CAM layer', report.layer]);
    files.set(
      'faithfulness.html',
      faithfulnessHtml(`convlens faithfulness: ${card.name}`, facts, report, svgs),
    );
    writeAll(flags.out, files);
    rmSync(partialFile, { force: true });
    if (flags.json) process.stdout.write(json);
    else {
      process.stdout.write(`${faithfulnessText(report)}\n`);
      for (const [k, v] of Object.entries(report.skipped)) process.stdout.write(`skipped ${k}: ${v}\n`);
      process.stdout.write(
        `${report.samples} images, ${(report.ms / 1000).toFixed(1)} s → ${flags.out}/faithfulness.{json,md,html} and ${charts.length} charts\n`,
      );
    }
  });
}

/** The recipe that made a model (its card's), which the data randomisation test retrains. */
function recipeOf(card: ModelCard): Recipe {
  const name = card.recipe ?? card.name;
  if (!RECIPES.some((r) => r.name === name))
    throw new Error(
      `--data-randomization retrains the model's recipe, and "${card.name}" has none; recipes: ${RECIPES.map((r) => r.name).join(', ')}`,
    );
  return findRecipe(name);
}

/**
 * The recipe's network trained on its training split with shuffled labels, without augmentation
 * (which would stop it memorising), checkpointed on how well it fits those labels.
 */
async function trainOnShuffledLabels(recipe: Recipe, epochs: number, seed: number, quiet: boolean) {
  const splits = await loadDatasetSplits(recipe.dataset, recipe.preprocessing);
  const data = shuffledLabels(splits.train, seed + 1);
  const fit = subset(
    data,
    Array.from({ length: Math.min(1000, data.length) }, (_, i) => i),
  );
  const progress = trainingProgress(quiet);
  try {
    const { augmentation: _, ...options } = recipe.options;
    const result = await train(
      recipe.architecture(),
      data,
      {
        ...options,
        epochs,
        preprocessing: recipe.preprocessing,
        validation: fit,
        onProgress: progress.onProgress,
      },
      nodeBackend(),
    );
    const last = result.history[result.history.length - 1];
    return {
      model: result.model,
      training: {
        recipe: recipe.name,
        epochs,
        bestEpoch: result.bestEpoch,
        shuffledLabelAccuracy: result.valAccuracy,
        trainAccuracy: last?.trainAccuracy,
      },
    };
  } finally {
    progress.stop();
  }
}
