/**
 * Adversarial training on the autodiff engine (Goodfellow et al. 2014) with the non-saturating
 * generator loss (their §3): L_D = E softplus(−D(x)) + E softplus(D(G(z))), L_G = E softplus(−D(G(z))).
 * Two graphs, each forward and backward in one onnxruntime session: the generator composed with
 * the discriminator (gradient into G's weights, D's weights fed but held), and the discriminator
 * alone on a batch of real and generated images, a per-row sign choosing each row's loss. Updates
 * alternate: each step generates a batch, updates D on it and a real batch, then updates G against
 * the updated D, both with Adam (β₁ = 0.5 as in DCGAN). Everything random comes from one seed.
 */
import { buildGradientGraph, gradName } from '../autodiff/engine.js';
import type { Dataset } from '../data/dataset.js';
import { Random } from '../maths/random.js';
import { appendModel } from '../onnx/compose.js';
import { cloneModel, encodeModel, liftToInputs, type Model, type Node } from '../onnx/model.js';
import { makeStatic } from '../onnx/static.js';
import { float32, int64, type Tensor } from '../onnx/tensor.js';
import type { InferenceBackend, InferenceSession, SessionOptions } from '../runtime/backend.js';
import { Adam, type Parameter, parametersOf } from './optimizers.js';
import { trainableParameters } from './trainingGraph.js';

export interface GanTrainingOptions {
  /** Real images, C×H×W in [0, 1] at the generator's output size. */
  data: Dataset;
  /** Input: latent [N, D]; output: images [N, C, H, W]. */
  generator: Model;
  /** Input: images [N, C, H, W]; output: logit [N, 1]. */
  discriminator: Model;
  batchSize?: number;
  steps?: number;
  /** Adam learning rate of both networks (default 2e-4, as DCGAN). */
  lr?: number;
  /** Learning rates of each network when they differ (0 holds a network fixed). */
  generatorLr?: number;
  discriminatorLr?: number;
  /** Adam β₁ (default 0.5, as DCGAN). */
  beta1?: number;
  seed?: number;
  onProgress?(p: GanProgress): void;
  /** Call `onSnapshot` with the generator every this many steps (0: never). */
  snapshotEvery?: number;
  onSnapshot?(generator: Model, step: number): void | Promise<void>;
  session?: SessionOptions;
}

export interface GanProgress {
  step: number;
  steps: number;
  /** This step's discriminator and generator losses. */
  lossD: number;
  lossG: number;
  /** Mean D(x) and D(G(z)) as probabilities. */
  realScore: number;
  fakeScore: number;
}

export interface GanTrainingResult {
  generator: Model;
  discriminator: Model;
  history: GanProgress[];
  seconds: number;
}

const SIGN = 'gan::sign';
const LOSS = 'gan::loss';

/** Σ_rows softplus(sign · logit) / B: the loss of a batch of B rows of each kind. */
function withSignedLoss(model: Model, logit: string, rows: number): Model {
  const m = cloneModel(model);
  const node = (opType: string, inputs: string[], output: string, attrs: Node['attrs'] = {}): Node => ({
    name: output,
    opType,
    domain: '',
    inputs,
    outputs: [output],
    attrs,
  });
  m.graph.inputs.push({ name: SIGN, dtype: 'float32', shape: ['N', 1] });
  m.graph.initializers.set('gan::inv_rows', float32([1 / rows], []));
  m.graph.initializers.set('gan::axes', int64([0, 1]));
  m.graph.nodes.push(
    node('Mul', [logit, SIGN], 'gan::signed'),
    node('Softplus', ['gan::signed'], 'gan::softplus'),
    node('ReduceSum', ['gan::softplus', 'gan::axes'], 'gan::sum', { keepdims: { type: 'int', value: 0 } }),
    node('Mul', ['gan::sum', 'gan::inv_rows'], LOSS),
  );
  return m;
}

interface Net {
  model: Model;
  input: string;
  output: string;
  params: Parameter[];
}

function netOf(model: Model): Net {
  const scaled = [...model.graph.initializers.keys()]
    .filter((k) => k.endsWith('::sn'))
    .map((k) => k.slice(0, -4));
  const names = [...new Set([...trainableParameters(model), ...scaled])];
  if (names.length === 0) throw new Error('a GAN network has no trainable parameters');
  return {
    model,
    input: model.graph.inputs[0].name,
    output: model.graph.outputs[0].name,
    params: parametersOf(model, names),
  };
}

/**
 * Spectral norms of weights by power iteration, one step per call with u kept between calls
 * (Miyato et al. 2018, Algorithm 1): v = Wᵀu/‖Wᵀu‖, u = Wv/‖Wv‖, σ = uᵀWv, W as [rows, rest].
 */
export class SpectralNorms {
  private readonly u = new Map<string, Float64Array>();
  constructor(private readonly rng: Random) {}

  sigma(p: Parameter): number {
    const rows = p.dims[0];
    const cols = p.value.length / rows;
    let u = this.u.get(p.name);
    if (!u) {
      u = Float64Array.from(this.rng.normals(rows));
      this.u.set(p.name, u);
    }
    const w = p.value;
    const v = new Float64Array(cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) v[c] += w[r * cols + c] * u[r];
    const nv = Math.hypot(...v) || 1;
    for (let c = 0; c < cols; c++) v[c] /= nv;
    let sigma = 0;
    const wv = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += w[r * cols + c] * v[c];
      wv[r] = s;
    }
    const nu = Math.hypot(...wv) || 1;
    for (let r = 0; r < rows; r++) {
      u[r] = wv[r] / nu;
      sigma += u[r] * wv[r];
    }
    return sigma;
  }
}

const snapshot = (net: Net): Model => {
  const m = cloneModel(net.model);
  for (const q of net.params) m.graph.initializers.set(q.name, float32(q.value.slice(), q.dims));
  return m;
};

const feedParams = (
  feeds: Record<string, Tensor>,
  params: readonly Parameter[],
  rename = (n: string) => n,
) => {
  for (const q of params) feeds[rename(q.name)] = float32(q.value, q.dims);
};

/** Mean of σ(v) over a vector of logits. */
const meanSigmoid = (v: Float32Array) => v.reduce((s, x) => s + 1 / (1 + Math.exp(-x)), 0) / v.length;

/**
 * Train a generator against a discriminator on `data`.
 *
 * @example
 * ```ts
 * const data = shapesDataset({ size: 32, seed: 1, length: 10000 });
 * const { generator } = await trainGan({
 *   data, generator: shapesGenerator({ seed: 1 }), discriminator: shapesDiscriminator({ seed: 2 }),
 *   steps: 4000, batchSize: 64,
 * }, nodeBackend());
 * ```
 */
export async function trainGan(
  options: GanTrainingOptions,
  backend: InferenceBackend,
): Promise<GanTrainingResult> {
  const batch = options.batchSize ?? 64;
  const steps = options.steps ?? 4000;
  const lr = options.lr ?? 2e-4;
  for (const [name, v] of [
    ['batchSize', batch],
    ['steps', steps],
  ] as const)
    if (!(Number.isInteger(v) && v >= 1)) throw new Error(`${name} must be a positive integer, got ${v}`);
  if (!(lr > 0)) throw new Error(`lr must be positive, got ${lr}`);
  const lrG = options.generatorLr ?? lr;
  const lrD = options.discriminatorLr ?? lr;
  if (!(lrG >= 0 && lrD >= 0)) throw new Error(`learning rates must be non-negative, got G ${lrG}, D ${lrD}`);
  const data = options.data;
  if (data.length === 0) throw new Error(`dataset "${data.name}" is empty`);
  const g = netOf(options.generator);
  const d = netOf(options.discriminator);
  const latentShape = g.model.graph.inputs[0].shape ?? [];
  const latent = latentShape[1];
  if (latentShape.length !== 2 || typeof latent !== 'number')
    throw new Error(
      `the generator's input "${g.input}" has shape [${latentShape}]; a GAN generator takes a latent vector [N, D]`,
    );
  const image = [data.channels, data.height, data.width];
  const per = image[0] * image[1] * image[2];

  // G ∘ D, the discriminator's tensors under 'd/', its weights fed, the loss softplus(−D(G(z))).
  const composite = cloneModel(g.model);
  const rename = appendModel(composite, d.model, { prefix: 'd/', inputs: { [d.input]: g.output } });
  const gLossModel = withSignedLoss(composite, rename(d.output), batch);
  gLossModel.graph.outputs = [{ name: g.output }, { name: LOSS }];
  const gStatic = await makeStatic(gLossModel, { [g.input]: [batch, latent], [SIGN]: [batch, 1] }, backend);
  const gGraph = buildGradientGraph(gStatic, {
    objective: [{ tensor: LOSS, weights: float32([1], []) }],
    wrt: g.params.map((q) => q.name),
    outputs: [LOSS],
  });
  const dFeeds = d.params.map((q) => rename(q.name));
  const dLossModel = withSignedLoss(d.model, d.output, batch);
  dLossModel.graph.outputs = [{ name: LOSS }];
  const dStatic = await makeStatic(
    dLossModel,
    { [d.input]: [2 * batch, ...image], [SIGN]: [2 * batch, 1] },
    backend,
  );
  const dGraph = buildGradientGraph(dStatic, {
    objective: [{ tensor: LOSS, weights: float32([1], []) }],
    wrt: d.params.map((q) => q.name),
    outputs: [LOSS, d.output],
  });
  const sessions: InferenceSession[] = [];
  const open = async (m: Model, lifted: string[]) => {
    const s = await backend.createSession(encodeModel(liftToInputs(m, lifted)).bytes, options.session);
    sessions.push(s);
    return s;
  };
  const rng = new Random(options.seed ?? 0);
  const adam = () => new Adam({ beta1: options.beta1 ?? 0.5, beta2: 0.999 });
  const [optG, optD] = [adam(), adam()];
  const gSign = float32(new Float32Array(batch).fill(-1), [batch, 1]);
  const dSign = float32(
    Float32Array.from({ length: 2 * batch }, (_, i) => (i < batch ? -1 : 1)),
    [2 * batch, 1],
  );
  const norms = new SpectralNorms(new Random((options.seed ?? 0) + 1));
  const scaled = d.params.filter((q) => d.model.graph.initializers.has(`${q.name}::sn`));
  const scales: Parameter[] = scaled.map((q) => ({
    name: `${q.name}::sn`,
    dims: [],
    value: new Float32Array(1),
  }));
  const updateScales = () =>
    scaled.forEach((q, k) => {
      scales[k].value[0] = 1 / norms.sigma(q);
    });
  const history: GanProgress[] = [];
  const start = performance.now();
  try {
    const scaleNames = scales.map((q) => q.name);
    const gSession = await open(gGraph, [
      ...g.params.map((q) => q.name),
      ...dFeeds,
      ...scaleNames.map(rename),
    ]);
    const dSession = await open(dGraph, [...d.params.map((q) => q.name), ...scaleNames]);
    const fakeSession = await open(
      g.model,
      g.params.map((q) => q.name),
    );
    for (let step = 0; step < steps; step++) {
      updateScales();
      // Discriminator: real images against the current generator's.
      const zD: Record<string, Tensor> = { [g.input]: float32(rng.normals(batch * latent), [batch, latent]) };
      feedParams(zD, g.params);
      const fakes = (await fakeSession.run(zD, [g.output]))[g.output].data as Float32Array;
      const images = new Float32Array(2 * batch * per);
      for (let i = 0; i < batch; i++)
        images.set(data.get(Math.floor(rng.next() * data.length)).image, i * per);
      images.set(fakes, batch * per);
      const dIn: Record<string, Tensor> = {
        [d.input]: float32(images, [2 * batch, ...image]),
        [SIGN]: dSign,
      };
      feedParams(dIn, d.params);
      feedParams(dIn, scales);
      const dOut = await dSession.run(dIn, [LOSS, d.output, ...d.params.map((q) => gradName(q.name))]);
      const lossD = (dOut[LOSS].data as Float32Array)[0];
      optD.step(
        d.params,
        d.params.map((q) => dOut[gradName(q.name)].data as Float32Array),
        lrD,
      );
      // Generator: against the updated discriminator.
      const gIn: Record<string, Tensor> = {
        [g.input]: float32(rng.normals(batch * latent), [batch, latent]),
        [SIGN]: gSign,
      };
      feedParams(gIn, g.params);
      updateScales();
      feedParams(gIn, d.params, rename);
      feedParams(gIn, scales, rename);
      const gOut = await gSession.run(gIn, [LOSS, ...g.params.map((q) => gradName(q.name))]);
      const lossG = (gOut[LOSS].data as Float32Array)[0];
      if (!Number.isFinite(lossG) || !Number.isFinite(lossD))
        throw new Error(
          `GAN training diverged at step ${step + 1}: losses D ${lossD}, G ${lossG}; lower the learning rate`,
        );
      optG.step(
        g.params,
        g.params.map((q) => gOut[gradName(q.name)].data as Float32Array),
        lrG,
      );
      const logits = dOut[d.output].data as Float32Array;
      const progress: GanProgress = {
        step: step + 1,
        steps,
        lossD,
        lossG,
        realScore: meanSigmoid(logits.subarray(0, batch)),
        fakeScore: meanSigmoid(logits.subarray(batch)),
      };
      history.push(progress);
      options.onProgress?.(progress);
      const every = options.snapshotEvery ?? 0;
      if (every > 0 && (step + 1) % every === 0 && step + 1 < steps)
        await options.onSnapshot?.(snapshot(g), step + 1);
    }
  } finally {
    for (const s of sessions) await s.release();
  }
  return {
    generator: snapshot(g),
    // The spectral scales as the last step used them, so the returned discriminator scores as trained.
    discriminator: snapshot({ ...d, params: [...d.params, ...scales] }),
    history,
    seconds: (performance.now() - start) / 1000,
  };
}
