import { describe, expect, it } from 'vitest';
import { Adam, cosineSchedule, type Parameter, Sgd } from './optimizers.js';

const param = (values: number[], dims = [values.length]): Parameter => ({
  name: 'w',
  dims,
  value: Float32Array.from(values),
});

describe('optimisers', () => {
  it('Adam: two steps match the hand-computed update', () => {
    const p = param([1, -2], [1, 2]);
    const adam = new Adam({ beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1 });
    adam.step([p], [Float32Array.from([0.5, -1])], 0.01);
    // t=1: m̂ = g, v̂ = g², so the step is lr·sign(g) (up to ε), plus decay lr·wd·p.
    expect(p.value[0]).toBeCloseTo(1 - 0.01 - 0.01 * 0.1 * 1, 6);
    expect(p.value[1]).toBeCloseTo(-2 + 0.01 - 0.01 * 0.1 * -2, 6);
    const w0 = p.value[0];
    adam.step([p], [Float32Array.from([0.25, -1])], 0.01);
    const m = 0.9 * 0.05 + 0.1 * 0.25;
    const v = 0.999 * 0.001 * 0.25 + 0.001 * 0.0625;
    const expected = w0 - (0.01 * (m / (1 - 0.81))) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8) - 0.001 * w0;
    expect(p.value[0]).toBeCloseTo(expected, 6);
  });

  it('weight decay spares rank-1 tensors (biases)', () => {
    const bias = param([3]);
    new Adam({ weightDecay: 0.5 }).step([bias], [Float32Array.from([0])], 0.1);
    expect(bias.value[0]).toBe(3);
  });

  it('SGD with momentum follows PyTorch: b = μb + g + wd·p, p -= lr·b', () => {
    const p = param([1, 1], [2, 1]);
    const sgd = new Sgd({ momentum: 0.9, weightDecay: 0.01 });
    sgd.step([p], [Float32Array.from([1, -1])], 0.1);
    const g1 = [1 + 0.01, -1 + 0.01];
    expect(Array.from(p.value)).toEqual([1 - 0.1 * g1[0], 1 - 0.1 * g1[1]].map((x) => Math.fround(x)));
    const w = Array.from(p.value);
    sgd.step([p], [Float32Array.from([1, -1])], 0.1);
    const b2 = [0.9 * g1[0] + 1 + 0.01 * w[0], 0.9 * g1[1] - 1 + 0.01 * w[1]];
    expect(p.value[0]).toBeCloseTo(w[0] - 0.1 * b2[0], 6);
    expect(p.value[1]).toBeCloseTo(w[1] - 0.1 * b2[1], 6);
  });

  it('plain SGD is p -= lr·g', () => {
    const p = param([2]);
    new Sgd().step([p], [Float32Array.from([4])], 0.25);
    expect(p.value[0]).toBe(1);
  });

  it('cosine schedule: linear warm-up, peak, half way, zero at the end', () => {
    expect(cosineSchedule(1, 0, 100, 10)).toBeCloseTo(0.1);
    expect(cosineSchedule(1, 9, 100, 10)).toBeCloseTo(1);
    expect(cosineSchedule(1, 10, 100, 10)).toBeCloseTo(1);
    expect(cosineSchedule(1, 55, 100, 10)).toBeCloseTo(0.5);
    expect(cosineSchedule(1, 100, 100, 10)).toBeCloseTo(0);
  });
});
