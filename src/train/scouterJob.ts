/**
 * Training a SCOUTER classifier on Node: a backbone cut at a feature map, the SCOUTER head on top
 * (src/train/scouter.ts), trained with cross-entropy + w · area (Li et al. 2021, eq. 6) with the
 * backbone frozen (or its last convs fine-tuned), the best validation epoch kept, test accuracy
 * measured beside the backbone's own, and a card that tells `explain --method scouter` where the
 * attention is.
 */
import type { ModelCard } from '../data/card.js';
import { loadDatasetSplits } from '../data/node.js';
import { withNchwInput } from '../onnx/layout.js';
import type { Model } from '../onnx/model.js';
import { ConvlensModel } from '../runtime/model.js';
import { nodeBackend } from '../runtime/node.js';
import type { Evaluation } from './evaluate.js';
import { evaluate } from './evaluate.js';
import { testAndWrite, trainHead } from './node.js';
import { checkFeatureMap } from './retrofit.js';
import { appendScouterHead } from './scouter.js';
import type { TrainOptions } from './trainer.js';

export interface ScouterJob {
  backbone: Model;
  card: ModelCard;
  /** How the backbone was named (for the card's recipe line). */
  source: string;
  /** The backbone's feature map the head reads. */
  layer: string;
  dataset: string;
  out: string;
  name: string;
  lambda: 1 | -1;
  slotsPerClass: number;
  hidden: number;
  iterations: number;
  areaWeight: number;
  epochs: number;
  batchSize: number;
  lr: number;
  /** Also train the last `fineTune` convs before the feature map (0: the head only). */
  fineTune: number;
  seed: number;
  recipe?: string;
  onProgress?: TrainOptions['onProgress'];
}

export interface ScouterJobResult {
  /** The backbone's own test accuracy (its GAP head), when its classes are the data's. */
  backboneAccuracy?: number;
  test: Evaluation;
  bestEpoch: number;
  seconds: number;
  card: ModelCard;
}

/**
 * Train and write a SCOUTER model.
 *
 * @example
 * ```ts
 * await runScouterJob({ backbone, card, source: 'shapes-gap', layer: 'features', dataset: 'shapes',
 *   out: 'shapes-scouter+.onnx', name: 'shapes-scouter+', lambda: 1, slotsPerClass: 1, hidden: 64,
 *   iterations: 3, areaWeight: 1, epochs: 6, batchSize: 64, lr: 1e-3, fineTune: 0, seed: 0 });
 * ```
 */
export async function runScouterJob(job: ScouterJob): Promise<ScouterJobResult> {
  const started = performance.now();
  const backend = nodeBackend();
  const { layout, ...p } = job.card.preprocessing;
  const original = new ConvlensModel(withNchwInput(job.backbone, layout), backend);
  const layers = await original.layers([1, p.channels, ...p.size]);
  const channels = checkFeatureMap(original.model, layers, job.layer);
  const [, , h, w] = layers.find((l) => l.tensor === job.layer)!.shape;
  const splits = await loadDatasetSplits(job.dataset, p);
  const classes = splits.train.classes;
  if (job.card.classes.length > 0 && job.card.classes.join('\n') !== classes.join('\n'))
    throw new Error(
      `the backbone's classes (${job.card.classes.join(', ')}) are not those of "${job.dataset}" (${classes.join(', ')}); give a backbone trained on this data`,
    );
  const logits = job.card.tensors?.logits ?? original.outputNames[0];
  const backboneAccuracy =
    job.card.classes.length > 0 ? (await evaluate(original, splits.test, p, { logits })).accuracy : undefined;
  await original.release();

  const head = appendScouterHead(original.model, job.layer, channels, [h, w], {
    classes: classes.length,
    lambda: job.lambda,
    slotsPerClass: job.slotsPerClass,
    hidden: job.hidden,
    iterations: job.iterations,
    seed: job.seed,
  });
  const { result } = await trainHead(
    { model: head.model, logits: head.logits, params: head.params },
    splits.train,
    {
      ...job,
      preprocessing: p,
      // The untrained head's scores are sums over every position, far from logits' usual scale:
      // a warm-up keeps the first steps from saturating the attention.
      warmupSteps: 100,
      auxiliary: [{ tensor: head.area, weight: job.areaWeight }],
    },
    backend,
  );
  const { localization: _, testAccuracy: __, testSamples: ___, ...inherited } = job.card;
  const card: Omit<ModelCard, 'testAccuracy' | 'testSamples'> = {
    ...inherited,
    preprocessing: p,
    name: job.name,
    classes: [...classes],
    tensors: { input: result.model.graph.inputs[0].name, logits: head.logits, features: job.layer },
    dataset: job.dataset,
    recipe: job.recipe ?? `scouter on ${job.source} at ${job.layer}`,
    seed: job.seed,
    scouter: {
      lambda: job.lambda,
      attention: head.attention,
      area: head.area,
      slotsPerClass: job.slotsPerClass,
      hidden: job.hidden,
      iterations: job.iterations,
      areaWeight: job.areaWeight,
    },
    training: {
      backbone: job.source,
      epochs: job.epochs,
      batchSize: job.batchSize,
      lr: job.lr,
      warmupSteps: 100,
      fineTune: job.fineTune,
      bestEpoch: result.bestEpoch,
      validationAccuracy: result.valAccuracy,
      seconds: Math.round((performance.now() - started) / 1000),
    },
  };
  const test = await testAndWrite(result.model, splits.test, card, job.out, backend);
  return {
    backboneAccuracy,
    test,
    bestEpoch: result.bestEpoch,
    seconds: (performance.now() - started) / 1000,
    card: { ...card, testAccuracy: test.accuracy, testSamples: test.total },
  };
}
