import { describe, expect, it } from 'vitest';
import { arrayDataset } from '../data/dataset.js';
import { Random } from '../maths/random.js';
import { GraphBuilder } from '../onnx/builder.js';
import { encodeModel, type Model } from '../onnx/model.js';
import { float32, int64 } from '../onnx/tensor.js';
import { nodeBackend } from '../runtime/node.js';
import { GENERATOR_TENSORS, shapesDiscriminator, shapesGenerator } from './gan.js';
import { type GanProgress, SpectralNorms, trainGan } from './ganTraining.js';

/** Images 3×4×4: channel means 0.8, 0.2, 0.5 with a little noise. */
function targetData(count: number) {
  const rng = new Random(5);
  const means = [0.8, 0.2, 0.5];
  const samples = Array.from({ length: count }, () => ({
    image: Float32Array.from({ length: 48 }, (_, i) => means[Math.floor(i / 16)] + 0.03 * rng.normal()),
    label: 0,
  }));
  const meta = { name: 'target', classes: [], channels: 3, height: 4, width: 4 };
  return { data: arrayDataset(meta, samples), means };
}

/** G: z [N, 2] → Gemm → [N, 3, 4, 4] → sigmoid. */
function tinyGenerator(): Model {
  const b = new GraphBuilder({ seed: 1 });
  const z = b.input('z', ['N', 2]);
  const h = b.op1('Reshape', [b.gemm(z, { in: 2, out: 48 }), b.param('shape', int64([-1, 3, 4, 4]))]);
  return b.build([b.named(b.op1('Sigmoid', [h]), 'image')]);
}

/** D: flatten → Gemm 48→8 → LeakyReLU → Gemm 8→1. */
function tinyDiscriminator(): Model {
  const b = new GraphBuilder({ seed: 2 });
  const x = b.flatten(b.input('image', ['N', 3, 4, 4]));
  const h = b.op1('LeakyRelu', [b.gemm(x, { in: 48, out: 8 })], { alpha: 0.2 });
  return b.build([b.named(b.gemm(h, { in: 8, out: 1 }), 'logit')]);
}

const mean = (h: GanProgress[], f: (p: GanProgress) => number) => h.reduce((s, p) => s + f(p), 0) / h.length;

/** Mean of each channel over a batch of generated images [n, 3, 4, 4]. */
async function channelMeans(generator: Model): Promise<number[]> {
  const session = await nodeBackend().createSession(encodeModel(generator).bytes);
  const z = new Random(9).normals(64 * 2);
  const out = (await session.run({ z: float32(z, [64, 2]) }, ['image'])).image.data as Float32Array;
  await session.release();
  return [0, 1, 2].map((c) => {
    let s = 0;
    for (let i = 0; i < 64; i++) for (let p = 0; p < 16; p++) s += out[(i * 3 + c) * 16 + p];
    return s / (64 * 16);
  });
}

describe('adversarial training', () => {
  const { data, means } = targetData(256);
  const common = { data, batchSize: 16, seed: 3 };

  it('the discriminator lowers its loss against a fixed generator', async () => {
    const { history } = await trainGan(
      {
        ...common,
        generator: tinyGenerator(),
        discriminator: tinyDiscriminator(),
        steps: 60,
        lr: 1e-2,
        generatorLr: 0,
      },
      nodeBackend(),
    );
    const [first, last] = [history.slice(0, 5), history.slice(-5)];
    expect(mean(last, (p) => p.lossD)).toBeLessThan(0.5 * mean(first, (p) => p.lossD));
    expect(mean(last, (p) => p.realScore)).toBeGreaterThan(mean(last, (p) => p.fakeScore));
  });

  it('the generator lowers its loss against a fixed discriminator', async () => {
    const { history } = await trainGan(
      {
        ...common,
        generator: tinyGenerator(),
        discriminator: tinyDiscriminator(),
        steps: 40,
        lr: 1e-2,
        discriminatorLr: 0,
      },
      nodeBackend(),
    );
    expect(mean(history.slice(-5), (p) => p.lossG)).toBeLessThan(mean(history.slice(0, 5), (p) => p.lossG));
  });

  it("moves the generated images' statistics toward the data's", async () => {
    const generator = tinyGenerator();
    const distance = (m: number[]) => Math.hypot(...m.map((v, c) => v - means[c]));
    const before = distance(await channelMeans(generator));
    const trained = await trainGan(
      { ...common, generator, discriminator: tinyDiscriminator(), steps: 150, lr: 5e-3 },
      nodeBackend(),
    );
    const after = distance(await channelMeans(trained.generator));
    expect(after).toBeLessThan(0.5 * before);
  });

  it('trains the shapes networks (spectral norm, minibatch stddev) one step without error', async () => {
    const shapes = arrayDataset(
      { name: 'grey', classes: [], channels: 3, height: 32, width: 32 },
      Array.from({ length: 8 }, () => ({ image: new Float32Array(3 * 32 * 32).fill(0.5), label: 0 })),
    );
    const r = await trainGan(
      {
        data: shapes,
        generator: shapesGenerator({ latent: 8, width: 16, seed: 1 }),
        discriminator: shapesDiscriminator({ width: 4, seed: 2, spectralNorm: true }),
        steps: 2,
        batchSize: 4,
      },
      nodeBackend(),
    );
    expect(r.history.every((p) => Number.isFinite(p.lossD) && Number.isFinite(p.lossG))).toBe(true);
    expect(r.generator.graph.outputs[0].name).toBe(GENERATOR_TENSORS.image);
    // The returned discriminator carries the scales 1/σ(W) the last step used, not their initial 1.
    const scales = [...r.discriminator.graph.initializers].filter(([name]) => name.endsWith('::sn'));
    expect(scales.length).toBe(4);
    for (const [, t] of scales) expect((t.data as Float32Array)[0]).not.toBe(1);
  });

  it('rejects a generator whose input is not a latent vector', async () => {
    await expect(
      trainGan(
        { ...common, generator: tinyDiscriminator(), discriminator: tinyDiscriminator(), steps: 1 },
        nodeBackend(),
      ),
    ).rejects.toThrow(/latent vector/);
  });
});

describe('spectral norms by power iteration', () => {
  it('converge to the largest singular value', () => {
    // W = diag(3, 1) rotated: singular values 3 and 1.
    const c = Math.cos(0.3);
    const s = Math.sin(0.3);
    const w = Float32Array.from([3 * c, -3 * s, s, c]);
    const norms = new SpectralNorms(new Random(1));
    let sigma = 0;
    for (let i = 0; i < 40; i++) sigma = norms.sigma({ name: 'w', dims: [2, 2], value: w });
    expect(sigma).toBeCloseTo(3, 5);
  });
});
