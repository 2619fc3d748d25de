/**
 * Adversarial examples in pixel space [0, 1]. The attack ascends J = −log p_y(x) (untargeted) or
 * log p_t(x) (targeted) through a LogSoftmax appended to the logits:
 * - FGSM (Goodfellow et al. 2015, eq. 3): x' = x + ε·sign(∇J) for L∞, x + ε·∇J / ‖∇J‖₂ for L2;
 * - PGD (Madry et al. 2018, eq. 2): `steps` steps of size α (default 2.5ε / steps) from a random
 *   start in the ε-ball, each projected back onto the ball and onto [0, 1].
 * Batches of images are attacked at once; the result reports predictions before and after and the
 * perturbation norms per image.
 */
import type { Preprocessing } from '../../data/preprocess.js';
import { Random } from '../../maths/random.js';
import { float32 } from '../../onnx/tensor.js';
import { ConvlensModel } from '../../runtime/model.js';
import { bindObjective } from './objective.js';
import { toModelInput } from './synthesize.js';

export const ATTACKS = ['fgsm', 'pgd'] as const;
export type AttackMethod = (typeof ATTACKS)[number];
export const NORMS = ['linf', 'l2'] as const;
export type AttackNorm = (typeof NORMS)[number];

export interface AttackOptions {
  method: AttackMethod;
  /** Budget in pixel units: max |δ| for L∞, ‖δ‖₂ for L2. */
  eps: number;
  norm?: AttackNorm;
  /** PGD steps (default 10) and step size (default 2.5·eps / steps). */
  steps?: number;
  stepSize?: number;
  /** Per image: a class to reach, or −1 to leave the true class (default: all untargeted). */
  targets?: number[];
  randomStart?: boolean;
  seed?: number;
  logits: string;
}

export interface AttackResult {
  /** [N, C, H, W] adversarial pixels in [0, 1]. */
  pixels: Float32Array;
  /** [N, classes] logits of the original and of the adversarial images, and their top-1 classes. */
  logitsBefore: Float32Array;
  logitsAfter: Float32Array;
  before: number[];
  after: number[];
  /** Untargeted: the prediction left the true class; targeted: it is the target. */
  success: boolean[];
  linf: number[];
  l2: number[];
}

function argmaxRows(data: Float32Array, k: number): number[] {
  return Array.from({ length: data.length / k }, (_, i) => {
    let best = 0;
    for (let c = 1; c < k; c++) if (data[i * k + c] > data[i * k + best]) best = c;
    return best;
  });
}

/**
 * Attack images `pixels` ([N, C, H, W] in [0, 1]) with true classes `labels` (undefined: the
 * model's own predictions are taken as the classes to leave).
 *
 * @example
 * ```ts
 * const r = await attack(model, card.preprocessing, x, [7], { method: 'pgd', eps: 0.1, steps: 20, targets: [3], logits: 'logits' });
 * r.after[0]; // 3 when the targeted attack succeeded
 * ```
 */
export async function attack(
  model: ConvlensModel,
  preprocessing: Preprocessing,
  pixels: Float32Array,
  labels: readonly number[] | undefined,
  options: AttackOptions,
): Promise<AttackResult> {
  const [h, w] = preprocessing.size;
  const c = preprocessing.channels;
  const per = c * h * w;
  const n = pixels.length / per;
  const norm = options.norm ?? 'linf';
  const eps = options.eps;
  if (!(eps > 0 && (norm === 'l2' || eps <= 1)))
    throw new Error(`--eps must be in (0, 1] for linf (pixel units), > 0 for l2; got ${eps}`);
  if (labels && labels.length !== n) throw new Error(`${labels.length} labels for ${n} images`);
  const targets = options.targets ?? new Array(n).fill(-1);
  const dims = [n, c, h, w];
  const layers = await model.layers([1, c, h, w]);
  const classes = layers.find((l) => l.tensor === options.logits)?.shape[1];
  if (classes === undefined) throw new Error(`logits tensor "${options.logits}" not found`);
  const badTarget = targets.find((t) => t >= classes);
  if (badTarget !== undefined) throw new Error(`target class ${badTarget} is out of range 0-${classes - 1}`);
  const { model: augmented, bound } = bindObjective(
    model.model,
    [{ label: 'log p', scale: 1, kind: { type: 'logprob', tensor: options.logits, index: 0 } }],
    (t) => layers.find((l) => l.tensor === t)?.shape,
    layers.map((l) => l.tensor),
    n,
  );
  const weights = new Float32Array(n * classes);
  const runner = new ConvlensModel(augmented, model.backend, model.sessionOptions);
  const stds = Array.from(
    { length: c },
    (_, ch) => preprocessing.std[preprocessing.std.length === 1 ? 0 : ch],
  );
  const forward = async (x: Float32Array) =>
    (await model.run(float32(toModelInput(x, preprocessing), dims), { outputs: [options.logits] }))[
      options.logits
    ].data as Float32Array;
  const gradient = async (x: Float32Array) => {
    const r = await runner.gradients(float32(toModelInput(x, preprocessing), dims), {
      objective: [{ tensor: bound[0].tensor, weights: float32(weights, [n, classes]) }],
      outputs: [],
    });
    const g = r.gradients[runner.inputNames[0]].data as Float32Array;
    for (let i = 0; i < g.length; i++) g[i] /= stds[Math.floor(i / (h * w)) % c];
    return g;
  };
  /** Move x along g by `size` (sign step or normalised step per image). */
  const stepAlong = (x: Float32Array, g: Float32Array, size: number) => {
    for (let i = 0; i < n; i++) {
      const s = i * per;
      if (norm === 'linf') for (let j = s; j < s + per; j++) x[j] += size * Math.sign(g[j]);
      else {
        let sq = 0;
        for (let j = s; j < s + per; j++) sq += g[j] * g[j];
        const scale = sq > 0 ? size / Math.sqrt(sq) : 0;
        for (let j = s; j < s + per; j++) x[j] += scale * g[j];
      }
    }
  };
  /** Project x onto the ε-ball around the originals and onto [0, 1]. */
  const project = (x: Float32Array) => {
    for (let i = 0; i < n; i++) {
      const s = i * per;
      if (norm === 'linf')
        for (let j = s; j < s + per; j++) x[j] = Math.min(pixels[j] + eps, Math.max(pixels[j] - eps, x[j]));
      else {
        let sq = 0;
        for (let j = s; j < s + per; j++) sq += (x[j] - pixels[j]) ** 2;
        const scale = sq > eps * eps ? eps / Math.sqrt(sq) : 1;
        for (let j = s; j < s + per; j++) x[j] = pixels[j] + scale * (x[j] - pixels[j]);
      }
      for (let j = s; j < s + per; j++) x[j] = Math.min(1, Math.max(0, x[j]));
    }
  };
  try {
    const logitsBefore = await forward(pixels);
    const before = argmaxRows(logitsBefore, classes);
    const truth = labels ?? before;
    // Per image: +1 on log p_target, or −1 on log p_true.
    for (let i = 0; i < n; i++)
      weights[i * classes + (targets[i] >= 0 ? targets[i] : truth[i])] = targets[i] >= 0 ? 1 : -1;
    const x = Float32Array.from(pixels);
    if (options.method === 'fgsm') {
      stepAlong(x, await gradient(pixels), eps);
      project(x);
    } else {
      const steps = options.steps ?? 10;
      const alpha = options.stepSize ?? (2.5 * eps) / steps;
      if (options.randomStart ?? true) {
        const rng = new Random(options.seed ?? 0);
        if (norm === 'linf') for (let j = 0; j < x.length; j++) x[j] += eps * (2 * rng.next() - 1);
        else
          stepAlong(
            x,
            Float32Array.from({ length: x.length }, () => rng.normal()),
            eps * rng.next(),
          );
        project(x);
      }
      for (let k = 0; k < steps; k++) {
        stepAlong(x, await gradient(x), alpha);
        project(x);
      }
    }
    const logitsAfter = await forward(x);
    const after = argmaxRows(logitsAfter, classes);
    const linf: number[] = [];
    const l2: number[] = [];
    for (let i = 0; i < n; i++) {
      let m = 0;
      let sq = 0;
      for (let j = i * per; j < (i + 1) * per; j++) {
        const d = x[j] - pixels[j];
        m = Math.max(m, Math.abs(d));
        sq += d * d;
      }
      linf.push(m);
      l2.push(Math.sqrt(sq));
    }
    return {
      pixels: x,
      logitsBefore,
      logitsAfter,
      before,
      after,
      success: after.map((a, i) => (targets[i] >= 0 ? a === targets[i] : a !== truth[i])),
      linf,
      l2,
    };
  } finally {
    await runner.release();
  }
}
