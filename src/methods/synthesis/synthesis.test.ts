import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelsDir } from '../../cli/common.js';
import { readCard } from '../../data/card.js';
import { loadMnist } from '../../data/node.js';
import type { Preprocessing } from '../../data/preprocess.js';
import { gaussianBlur } from '../../maths/blur.js';
import { Random } from '../../maths/random.js';
import { readModelFile } from '../../node.js';
import { GraphBuilder } from '../../onnx/builder.js';
import { ConvlensModel } from '../../runtime/model.js';
import { nodeBackend } from '../../runtime/node.js';
import { attack } from './attack.js';
import { gramMatrix, type ObjectiveTerm, parseObjective } from './objective.js';
import { randomFeatureNetwork } from './randomFeatures.js';
import { roll, type SynthesisOptions, synthesize, toModelInput, totalVariation } from './synthesize.js';

// A small ReLU conv net on 1×12×12 images.
const g = new GraphBuilder({ seed: 11 });
const x = g.input('x', ['n', 1, 12, 12]);
const c1 = g.named(g.relu(g.conv(x, { in: 1, out: 4, kernel: 3, pads: 1 })), 'c1');
const c2 = g.named(g.relu(g.conv(c1, { in: 4, out: 4, kernel: 3, pads: 1 })), 'c2');
const logits = g.named(g.gemm(g.flatten(g.globalAveragePool(c2)), { in: 4, out: 3 }), 'logits');
const tiny = new ConvlensModel(g.build([logits]), nodeBackend());
const p: Preprocessing = { size: [12, 12], channels: 1, resize: 'exact', mean: [0.5], std: [0.25] };

describe('objectives', () => {
  const target = new Random(2).normals(144, 0.3).map((v) => Math.min(1, Math.max(0, 0.5 + v)));
  it.each<[string, () => ObjectiveTerm[]]>([
    ['logit', () => parseObjective('logit:2', 'logits')],
    ['channel', () => parseObjective('channel:c2:1', 'logits')],
    ['neuron', () => parseObjective('neuron:c1:0:5:6', 'logits')],
    ['dream', () => parseObjective('dream:c1', 'logits')],
    ['sum and scale', () => parseObjective('0.5*logit:0 + dream:c2', 'logits')],
    [
      'feature match (inversion)',
      () => [
        {
          label: 'match',
          scale: 1,
          kind: { type: 'match', tensor: 'c1', target: new Float32Array(4 * 144).fill(0.2) },
        },
      ],
    ],
    [
      'Gram (texture)',
      () => [
        {
          label: 'gram',
          scale: 1,
          kind: { type: 'gram', tensor: 'c1', target: new Float32Array(16).fill(0.05) },
        },
      ],
    ],
  ])('%s improves over a few steps', async (_, terms) => {
    const r = await synthesize(tiny, p, terms(), {
      steps: 8,
      lr: 0.05,
      seed: 1,
      init: Float32Array.from(target),
    });
    expect(r.trace).toHaveLength(9);
    expect(r.trace.at(-1)!.objective).toBeGreaterThan(r.trace[0].objective);
  });

  it('name missing layers, channels and positions with the valid ones', async () => {
    const run = (text: string) => synthesize(tiny, p, parseObjective(text, 'logits'), { steps: 1 });
    await expect(run('channel:c3:0')).rejects.toThrow(/layer "c3" not found; nearest: c1, c2/);
    await expect(run('channel:c2:4')).rejects.toThrow(/channel 4 is out of range; "c2" has channels 0-3/);
    await expect(run('neuron:c1:0:12:0')).rejects.toThrow(/position \(12, 0\) is outside "c1"/);
    await expect(run('logit:3')).rejects.toThrow(/class 3 is out of range 0-2/);
    expect(() => parseObjective('channel:c1', 'logits')).toThrow(/has 1 fields after "channel:", expected 2/);
    expect(() => parseObjective('blob:c1', 'logits')).toThrow(/unknown kind "blob"/);
  });
});

describe('parameterisations, transforms and sizes', () => {
  it.each<[string, Partial<SynthesisOptions>]>([
    ['fft (1/f spectrum)', { param: 'fft', lr: 0.05 }],
    [
      'pixel with pad, scale and rotation',
      { transforms: { pad: 2, scale: [0.9, 1.1], rotate: 10 }, jitter: 2 },
    ],
    [
      'fft with every transform',
      { param: 'fft', transforms: { pad: 1, scale: [0.95, 1.05], rotate: 5 }, jitter: 1 },
    ],
  ])('the logit rises with %s', async (_, options) => {
    const r = await synthesize(tiny, p, parseObjective('logit:0', 'logits'), {
      steps: 30,
      seed: 3,
      ...options,
    });
    expect(r.trace.at(-1)!.terms[0]).toBeGreaterThan(r.trace[0].terms[0] + 0.5);
    expect(r.pixels.every((v) => v >= 0 && v <= 1)).toBe(true);
    // The trace is measured on transformed images; the final image itself scores high too.
    const z = await tiny.run(
      { dtype: 'float32', dims: r.dims, data: toModelInput(r.pixels, p) },
      { outputs: ['logits'] },
    );
    expect((z.logits.data as Float32Array)[0]).toBeGreaterThan(r.trace[0].terms[0] + 0.5);
  });

  it('optimises a convolutional layer at another size, batched', async () => {
    const r = await synthesize(tiny, p, parseObjective('channel:c2:0', 'logits'), {
      steps: 10,
      size: [20, 16],
      batch: 2,
      seed: 1,
    });
    expect(r.dims).toEqual([2, 1, 20, 16]);
    expect(r.trace.at(-1)!.objective).toBeGreaterThan(r.trace[0].objective);
  });

  it('says when a layer needs the model’s own input size', async () => {
    const f = new GraphBuilder({ seed: 2 });
    const input = f.input('x', ['n', 1, 12, 12]);
    const conv = f.named(f.relu(f.conv(input, { in: 1, out: 2, kernel: 3, pads: 1 })), 'conv');
    const head = f.named(f.gemm(f.flatten(conv), { in: 288, out: 3 }), 'logits');
    const flat = new ConvlensModel(f.build([head]), nodeBackend());
    const at = (text: string) =>
      synthesize(flat, p, parseObjective(text, 'logits'), { steps: 1, size: [16, 16] });
    await expect(at('logit:0')).rejects.toThrow(/cannot be computed at 16×16; .*input size 12×12/);
    await expect(at('channel:conv:1')).resolves.toBeDefined();
  });

  it('refuses pixel edits on parameterisations that are not pixels', async () => {
    await expect(
      synthesize(tiny, p, parseObjective('logit:0', 'logits'), { steps: 1, param: 'fft', blurEvery: 2 }),
    ).rejects.toThrow(/blurEvery edit pixels directly and need the plain pixel parameterisation \(not fft\)/);
  });
});

describe('regularisers', () => {
  const noise = new Random(4).normals(144, 0.2).map((v) => 0.5 + v);
  const highFrequency = (img: Float32Array) => totalVariation(img, 1, 12, 12).value;

  it('blur every step lowers high-frequency energy', async () => {
    const r = await synthesize(tiny, p, parseObjective('logit:0', 'logits'), {
      steps: 3,
      lr: 1e-6,
      blurEvery: 1,
      blurSigma: 0.8,
      init: Float32Array.from(noise),
    });
    expect(highFrequency(r.pixels)).toBeLessThan(0.2 * highFrequency(noise));
    const once = gaussianBlur(noise, 1, 12, 12, 0.8);
    expect(highFrequency(once)).toBeLessThan(highFrequency(noise));
  });

  it('value clipping resets exactly the pixels with the smallest norm to the mean', async () => {
    const r = await synthesize(tiny, p, parseObjective('logit:0', 'logits'), {
      steps: 1,
      lr: 1e-9,
      clipValue: 25,
      init: Float32Array.from(noise),
    });
    let reset = 0;
    for (let j = 0; j < 144; j++) if (r.pixels[j] === 0.5) reset++;
    expect(reset).toBe(36); // 25% of 144
  });

  it('TV gradient matches finite differences; roll is undone by the opposite roll', () => {
    const img = Float32Array.from(noise);
    const { grad } = totalVariation(img, 1, 12, 12);
    for (const i of [0, 17, 100, 143]) {
      const up = Float32Array.from(img);
      const down = Float32Array.from(img);
      up[i] += 1e-3;
      down[i] -= 1e-3;
      const fd = (totalVariation(up, 1, 12, 12).value - totalVariation(down, 1, 12, 12).value) / 2e-3;
      expect(grad[i]).toBeCloseTo(fd, 4);
    }
    expect(roll(roll(img, 1, 12, 12, 3, -5), 1, 12, 12, -3, 5)).toEqual(img);
  });
});

describe('on the shipped models', () => {
  const digits = readModelFile(join(modelsDir(), 'digits-gap.onnx'));
  const card = readCard(digits)!;
  const model = new ConvlensModel(digits, nodeBackend());

  it('a visualised digit’s logit rises far above every other class', async () => {
    const r = await synthesize(model, card.preprocessing, parseObjective('logit:3', 'logits'), {
      steps: 120,
      jitter: 1,
      l2: 0.02,
      tv: 0.5,
      blurEvery: 4,
      seed: 0,
    });
    const z = Array.from(
      (
        await model.run(
          { dtype: 'float32', dims: r.dims, data: toModelInput(r.pixels, card.preprocessing) },
          { outputs: ['logits'] },
        )
      ).logits.data as Float32Array,
    );
    const others = Math.max(...z.filter((_, k) => k !== 3));
    expect(z[3] - others).toBeGreaterThan(10);
    expect(r.trace.at(-1)!.objective).toBeGreaterThan(r.trace[0].objective + 20);
  });

  it('texture synthesis lowers the Gram loss by ≥ 90% from its start', async () => {
    const shapes = readModelFile(join(modelsDir(), 'shapes-gap.onnx'));
    const sc = readCard(shapes)!;
    const m = new ConvlensModel(shapes, nodeBackend());
    const { drawShapes } = await import('../../data/shapes.js');
    const source = drawShapes(5, 0, 64, 0.02).image;
    const input = toModelInput(source, sc.preprocessing);
    const acts = await m.run(
      { dtype: 'float32', dims: [1, 3, 64, 64], data: input },
      { outputs: ['relu1', 'relu2'] },
    );
    const terms: ObjectiveTerm[] = ['relu1', 'relu2'].map((l) => ({
      label: `gram:${l}`,
      scale: 1,
      kind: { type: 'gram', tensor: l, target: gramMatrix(acts[l].data as Float32Array, acts[l].dims) },
    }));
    const r = await synthesize(m, sc.preprocessing, terms, { steps: 150, lr: 0.03, seed: 2 });
    const loss = (t: { objective: number }) => -t.objective;
    expect(loss(r.trace.at(-1)!)).toBeLessThan(0.1 * loss(r.trace[0]));
    await m.release();
  });

  // Documented budgets (README): FGSM L∞ ε = 0.4; targeted PGD L∞ ε = 0.3, 40 steps.
  const test = loadMnist().test;
  const n = 200;
  const pixels = new Float32Array(n * 784);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = test.get(Math.floor((i * test.length) / n));
    pixels.set(s.image, i * 784);
    labels.push(s.label);
  }

  /** Among correctly classified digits, the fraction whose class changes on `attacked` pixels. */
  const flipRate = async (attacked: Float32Array, correct: boolean[]) => {
    const z = (
      await model.run(
        { dtype: 'float32', dims: [n, 1, 28, 28], data: toModelInput(attacked, card.preprocessing) },
        { outputs: ['logits'] },
      )
    ).logits.data as Float32Array;
    const top = (i: number) => {
      const row = Array.from(z.subarray(i * 10, (i + 1) * 10));
      return row.indexOf(Math.max(...row));
    };
    return labels.filter((l, i) => correct[i] && top(i) !== l).length / correct.filter(Boolean).length;
  };

  it('FGSM flips far more digits than random signs of the same size, and ≥ 85% at ε = 0.4', async () => {
    const rng = new Random(3);
    const rates: Record<number, { fgsm: number; random: number }> = {};
    let correct: boolean[] = [];
    for (const eps of [0.15, 0.4]) {
      const r = await attack(model, card.preprocessing, pixels, labels, {
        method: 'fgsm',
        eps,
        logits: 'logits',
      });
      correct = r.before.map((b, i) => b === labels[i]);
      expect(Math.max(...r.linf)).toBeLessThanOrEqual(eps + 1e-6);
      const noise = pixels.map((v) => Math.min(1, Math.max(0, v + (rng.next() < 0.5 ? -eps : eps))));
      rates[eps] = { fgsm: await flipRate(r.pixels, correct), random: await flipRate(noise, correct) };
    }
    // At ε = 0.15 the gradient's signs matter: 45% against 8% for random signs on these 199 digits.
    expect(rates[0.15].fgsm).toBeGreaterThan(0.3);
    expect(rates[0.15].fgsm).toBeGreaterThan(3 * rates[0.15].random);
    // At ε = 0.4 FGSM sits on MNIST's plateau (90.5% on 1,000 digits, where pixels at 0 or 1 clip
    // half of each step; random signs that large flip as many): digits at its edge turn on gradient
    // signs that round differently between CPUs, so the bound stays a few digits under it.
    expect(rates[0.4].fgsm).toBeGreaterThanOrEqual(0.85);
  });

  it('targeted PGD reaches the target class on ≥ 90% at ε = 0.3 in 40 steps', async () => {
    const targets = labels.map((l) => (l + 1) % 10);
    const r = await attack(model, card.preprocessing, pixels, labels, {
      method: 'pgd',
      eps: 0.3,
      steps: 40,
      targets,
      logits: 'logits',
    });
    expect(r.success.filter(Boolean).length / n).toBeGreaterThanOrEqual(0.9);
    expect(r.after.filter((a, i) => a === targets[i]).length).toBe(r.success.filter(Boolean).length);
    expect(Math.max(...r.linf)).toBeLessThanOrEqual(0.3 + 1e-6);
    await expect(
      attack(model, card.preprocessing, pixels, labels, { method: 'fgsm', eps: 1.5, logits: 'logits' }),
    ).rejects.toThrow(/eps must be in \(0, 1\]/);
  });
});

describe('random multi-scale features', () => {
  it('has one ReLU layer per odd filter size, with zero-mean filters of the right shape', async () => {
    const { model, layers } = randomFeatureNetwork({ sizes: [3, 5], filters: 4, seed: 1 });
    expect(layers).toEqual(['rf3', 'rf5']);
    const weights = [...model.graph.initializers.values()];
    expect(weights.map((w) => w.dims)).toEqual([
      [4, 3, 3, 3],
      [4, 3, 5, 5],
    ]);
    for (const w of weights) {
      const fan = w.dims.slice(1).reduce((a, b) => a * b, 1);
      const data = w.data as Float32Array;
      for (let f = 0; f < 4; f++)
        expect(data.subarray(f * fan, (f + 1) * fan).reduce((a, b) => a + b, 0)).toBeCloseTo(0, 5);
    }
    expect(() => randomFeatureNetwork({ sizes: [4] })).toThrow(/odd integers ≥ 1, got 4/);
  });
});
