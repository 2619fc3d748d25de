import { describe, expect, it } from 'vitest';
import { channelSeed, classSeed, onesSeed } from '../autodiff/seeds.js';
import { loadModel } from '../node.js';
import { GraphBuilder } from '../onnx/builder.js';
import { encodeModel } from '../onnx/model.js';
import { float32 } from '../onnx/tensor.js';
import { type InferenceBackend, SPIN_WITHIN_RUN_FROM, SPINNING } from './backend.js';
import { ConvlensModel } from './model.js';
import { nodeBackend } from './node.js';

/** logits = W·x + b on a flattened [N, 2, 2, 2] input: the input gradient of logit k is W[k]. */
function linearModel() {
  const b = new GraphBuilder();
  b.input('image', ['batch', 2, 2, 2]);
  const w = float32(
    Array.from({ length: 24 }, (_, i) => (i % 7) - 3 + i / 10),
    [3, 8],
  );
  const logits = b.gemm(b.flatten('image'), { in: 8, out: 3, weight: w });
  return { model: b.build([logits]), w: w.data as Float32Array, logits };
}

/** Masked gradients are dY · 0, so −0 where dY < 0: compare values, not the sign of zero. */
const zeroSign = (v: number) => v + 0;

describe('ConvlensModel', () => {
  it('keeps at most maxSessions sessions open, releasing the least recently used, with the same results', async () => {
    const { model, w, logits } = linearModel();
    const m = new ConvlensModel(model, nodeBackend(), {}, 3);
    const gradientOf = async (n: number) => {
      const x = float32(new Float32Array(n * 8).fill(0.5), [n, 2, 2, 2]);
      const r = await m.gradients(x, { objective: [{ tensor: logits, weights: classSeed([n, 3], 1) }] });
      return Array.from((r.gradients.image.data as Float32Array).slice(0, 8));
    };
    const first = await gradientOf(1);
    for (let n = 2; n <= 8; n++) {
      expect(await gradientOf(n)).toEqual(Array.from(w.slice(8, 16)));
      expect(m.sessionCount).toBeLessThanOrEqual(3);
    }
    // Batch 1's session was released long ago: it is rebuilt and gives the same gradient.
    expect(await gradientOf(1)).toEqual(first);
    await Promise.all([1, 2, 3, 4, 5].map(gradientOf));
    expect(m.sessionCount).toBeLessThanOrEqual(5);
    await m.release();
    expect(m.sessionCount).toBe(0);
    expect(() => new ConvlensModel(model, nodeBackend(), {}, 0)).toThrow(
      /maxSessions must be a positive integer, got 0/,
    );
  });

  it('runs with every spinning mode in onnxruntime-node, giving the same gradient', async () => {
    const { model, w, logits } = linearModel();
    const x = float32(new Float32Array(8).fill(0.5), [1, 2, 2, 2]);
    for (const spinning of SPINNING) {
      const m = new ConvlensModel(model, nodeBackend(), { spinning, threads: 2 });
      const r = await m.gradients(x, { objective: [{ tensor: logits, weights: classSeed([1, 3], 2) }] });
      expect(Array.from(r.gradients.image.data as Float32Array), spinning).toEqual(
        Array.from(w.slice(16, 24)),
      );
      await m.release();
    }
  });

  describe("'auto' spinning: within-run from SPIN_WITHIN_RUN_FROM multiply-accumulates per run", () => {
    // x [n,64,32,32] → Conv 64→64 k3 'features': 64·32·32·(64·9) = 37.7 M per sample
    //   → Relu → GlobalAveragePool → Flatten → Gemm 64→10 'logits' (640 per sample).
    const perSample = 64 * 32 * 32 * 64 * 9;
    const b = new GraphBuilder({ seed: 3 });
    const input = b.input('x', ['n', 64, 32, 32]);
    const features = b.named(b.conv(input, { in: 64, out: 64, kernel: 3, pads: 1 }), 'features');
    const logitsName = b.named(
      b.gemm(b.flatten(b.globalAveragePool(b.relu(features))), { in: 64, out: 10 }),
      'logits',
    );
    const cnn = b.build([logitsName]);

    /** The spinning mode of each session a model opens (probe sessions, with none, left out). */
    function recordingBackend(modes: (string | undefined)[]): InferenceBackend {
      const inner = nodeBackend();
      return {
        name: 'recording',
        availableProviders: inner.availableProviders,
        createSession: (bytes, options) => {
          if (options?.spinning) modes.push(options.spinning);
          return inner.createSession(bytes, options);
        },
      };
    }
    const fill = (n: number) => float32(new Float32Array(n * 64 * 32 * 32).fill(0.1), [n, 64, 32, 32]);
    /** The largest batch whose run stays under the threshold at `cost` per sample. */
    const below = (cost: number) => Math.ceil(SPIN_WITHIN_RUN_FROM / cost) - 1;
    const forward = below(perSample + 640);
    const inputGradient = below(2 * (perSample + 640));
    const featuresGradient = below(perSample + 2 * 640);

    it.each([
      // forward: the Conv and the Gemm once per sample
      ['auto', 'forward', forward, 'never'],
      ['auto', 'forward', forward + 1, 'within-run'],
      // input gradient: forward and backward, twice per sample
      ['auto', 'input gradient', inputGradient, 'never'],
      ['auto', 'input gradient', inputGradient + 1, 'within-run'],
      // gradient at the features: the forward, and the Gemm's backward
      ['auto', 'features gradient', featuresGradient, 'never'],
      ['auto', 'features gradient', featuresGradient + 1, 'within-run'],
      ['never', 'forward', forward + 1, 'never'],
      ['always', 'input gradient', 1, 'always'],
    ] as const)('%s: %s of %i images runs with %s', async (spinning, call, n, expected) => {
      const modes: (string | undefined)[] = [];
      const m = new ConvlensModel(cnn, recordingBackend(modes), { spinning });
      const x = fill(n);
      const objective = [{ tensor: logitsName, weights: classSeed([n, 10], 1) }];
      if (call === 'forward') await m.run(x);
      else await m.gradients(x, { objective, wrt: call === 'input gradient' ? undefined : [features] });
      expect(modes).toEqual([expected]);
      await m.release();
    });
  });

  it('a linear model’s input gradient equals its weight row, per sample and class', async () => {
    const { model, w, logits } = linearModel();
    const m = await loadModel(encodeModel(model).bytes);
    const x = float32(
      Array.from({ length: 16 }, (_, i) => Math.sin(i)),
      [2, 2, 2, 2],
    );
    const r = await m.gradients(x, { objective: [{ tensor: logits, weights: classSeed([2, 3], [2, 0]) }] });
    const g = r.gradients['image'].data as Float32Array;
    expect(Array.from(g.slice(0, 8))).toEqual(Array.from(w.slice(16, 24)));
    expect(Array.from(g.slice(8, 16))).toEqual(Array.from(w.slice(0, 8)));
    expect(r.outputs[logits].dims).toEqual([2, 3]);
    await m.release();
  });

  it('differentiates intermediate tensors and sums of squares, and fetches intermediates', async () => {
    const b = new GraphBuilder({ seed: 2 });
    b.input('x', [1, 1, 4, 4]);
    const h = b.conv('x', { in: 1, out: 2, kernel: 1, weight: float32([2, -1], [2, 1, 1, 1]), bias: false });
    const y = b.relu(h);
    const m = await loadModel(b.build([y]));
    const x = float32(
      Array.from({ length: 16 }, (_, i) => i - 7.5),
      [1, 1, 4, 4],
    );
    // objective = Σ y², wrt the conv output h: dh = 2·y·[h > 0] = 2·relu(h).
    const r = await m.gradients(x, {
      objective: [{ tensor: y, weights: onesSeed([1, 2, 4, 4]), power: 2 }],
      wrt: [h],
    });
    const fwd = await m.run(x, { outputs: [h] });
    const hv = fwd[h].data as Float32Array;
    expect(Array.from(r.gradients[h].data as Float32Array)).toEqual(
      Array.from(hv, (v) => 2 * Math.max(v, 0)),
    );
    // objective = channel 1 of y: d/dx = −1 where channel 1 is active (x < 0).
    const c = await m.gradients(x, { objective: [{ tensor: y, weights: channelSeed([1, 2, 4, 4], 1) }] });
    expect(Array.from(c.gradients['x'].data as Float32Array)).toEqual(
      Array.from(x.data as Float32Array, (v) => (v < 0 ? -1 : 0)),
    );
    await m.release();
  });

  it('runs only the nodes the fetched tensors need', async () => {
    // After y sits a Gather whose index is out of range: onnxruntime fails only if it runs it.
    const b = new GraphBuilder();
    b.input('x', [1, 3]);
    const y = b.named(b.relu('x'), 'y');
    const z = b.op1(
      'Gather',
      [y, b.param('index', { dtype: 'int64', dims: [1], data: BigInt64Array.of(7n) })],
      {
        axis: 1,
      },
    );
    const m = await loadModel(b.build([z]));
    const x = float32([1, -2, 3], [1, 3]);
    expect(Array.from((await m.run(x, { outputs: [y] })).y.data as Float32Array)).toEqual([1, 0, 3]);
    await expect(m.run(x, { outputs: [z] })).rejects.toThrow(/out of bounds|out of range|indices/i);
    await m.release();
  });

  it('applies the ReLU rule per call: vanilla, deconvnet, guided', async () => {
    const b = new GraphBuilder();
    b.input('x', [1, 4]);
    const y = b.relu('x');
    const m = await loadModel(b.build([y]));
    const x = float32([-1, -2, 3, 4], [1, 4]);
    const seed = float32([1, -1, -1, 2], [1, 4]);
    const run = async (reluRule: 'vanilla' | 'deconvnet' | 'guided') =>
      Array.from(
        (await m.gradients(x, { objective: [{ tensor: y, weights: seed }], reluRule })).gradients['x']
          .data as Float32Array,
        zeroSign,
      );
    expect(await run('vanilla')).toEqual([0, 0, -1, 2]);
    expect(await run('deconvnet')).toEqual([1, 0, 0, 2]);
    expect(await run('guided')).toEqual([0, 0, 0, 2]);
    // and again vanilla: nothing global was left behind.
    expect(await run('vanilla')).toEqual([0, 0, -1, 2]);
    await m.release();
  });

  it.each([
    [
      'Clip as ReLU6',
      (b: GraphBuilder) => b.relu6('x'),
      [-1, 2, 7, 5],
      [0, 0, 0, 2],
      [1, 0, 0, 2],
      [0, -1, 0, 2],
    ],
    [
      'LeakyRelu',
      (b: GraphBuilder) => b.op1('LeakyRelu', ['x'], { alpha: 0.5 }),
      [-1, 2, -3, 5],
      [0.5, 0, 0, 2],
      [1, -0.5, -0.5, 2],
      [0.5, -1, -0.5, 2],
    ],
  ])('%s follows the ReLU rule option', async (_, op, xs, guided, deconvnet, vanilla) => {
    const b = new GraphBuilder({ opset: 13 });
    b.input('x', [1, 4]);
    const y = op(b);
    const m = await loadModel(b.build([y]));
    const seed = float32([1, -1, -1, 2], [1, 4]);
    const run = async (reluRule: 'vanilla' | 'deconvnet' | 'guided') =>
      Array.from(
        (await m.gradients(float32(xs, [1, 4]), { objective: [{ tensor: y, weights: seed }], reluRule }))
          .gradients['x'].data as Float32Array,
        zeroSign,
      );
    expect(await run('vanilla')).toEqual(vanilla);
    expect(await run('deconvnet')).toEqual(deconvnet);
    expect(await run('guided')).toEqual(guided);
    await m.release();
  });

  // The masks are float 0/1 tensors from HardSigmoid: exact at 0, at the smallest normal float, and
  // at the ceiling and the float just below it, for ceilings that are and are not powers of two
  // (1e-35 is too small for a float mask and takes the boolean path).
  it.each([6, 4, 0.1, 1e-3, 1e-35])('ReLU and Clip(0, %f) masks are exact at their edges', async (hi) => {
    const ceiling = Math.fround(hi);
    const below = new Float32Array([ceiling]);
    new Int32Array(below.buffer)[0] -= 1;
    const xs = [
      -1,
      -0,
      0,
      2 ** -126,
      Math.min(1e-30, ceiling / 4),
      ceiling / 2,
      below[0],
      ceiling,
      2 * ceiling,
      3e38,
    ];
    const b = new GraphBuilder({ opset: 13 });
    b.input('x', [1, xs.length]);
    const relu = b.relu('x');
    const clip = b.op1('Clip', ['x', b.param('lo', float32([0], [])), b.param('hi', float32([hi], []))]);
    const m = await loadModel(b.build([relu, clip]));
    const mask = async (y: string) =>
      Array.from(
        (
          await m.gradients(float32(xs, [1, xs.length]), {
            objective: [{ tensor: y, weights: onesSeed([1, xs.length]) }],
          })
        ).gradients['x'].data as Float32Array,
      );
    expect(await mask(relu)).toEqual([0, 0, 0, 1, 1, 1, 1, 1, 1, 1]);
    expect(await mask(clip)).toEqual([0, 0, 0, 1, 1, 1, 1, 0, 0, 0]);
    await m.release();
  });

  it('sends a MaxPool window’s gradient to its first maximum when values tie, and adds overlaps', async () => {
    const b = new GraphBuilder();
    b.input('x', [1, 1, 2, 4]);
    const y = b.maxPool('x', { kernel: 2, stride: 1 });
    const m = await loadModel(b.build([y]));
    // Windows (row-major): {1,1,1,1} → (0,0); {1,0,1,2} → (1,2); {0,2,2,2} → (0,3).
    const x = float32([1, 1, 0, 2, 1, 1, 2, 2], [1, 1, 2, 4]);
    const r = await m.gradients(x, {
      objective: [{ tensor: y, weights: float32([10, 20, 30], [1, 1, 1, 3]) }],
    });
    expect(Array.from(r.gradients['x'].data as Float32Array)).toEqual([10, 0, 0, 30, 0, 0, 20, 0]);
    const s = await m.gradients(float32(new Array(8).fill(5), [1, 1, 2, 4]), {
      objective: [{ tensor: y, weights: float32([1, 2, 4], [1, 1, 1, 3]) }],
    });
    expect(Array.from(s.gradients['x'].data as Float32Array)).toEqual([1, 2, 4, 0, 0, 0, 0, 0]);
    await m.release();
  });

  it('names unknown tensors, ops without rules, and bad seeds', async () => {
    const { model, logits } = linearModel();
    const m = await loadModel(model);
    const x = float32(new Array(8).fill(1), [1, 2, 2, 2]);
    await expect(m.run(x, { outputs: ['logitz'] })).rejects.toThrow(/tensor "logitz" not found; nearest:/);
    await expect(
      m.gradients(x, { objective: [{ tensor: logits, weights: classSeed([1, 4], 0) }] }),
    ).rejects.toThrow(/weights have shape \[1,4\], the tensor has \[1,3\]/);
    expect(() => classSeed([1, 3], 3)).toThrow(/class 3 is outside 0..2/);

    const b = new GraphBuilder();
    b.input('x', [1, 4]);
    const y = b.op1('Sin', ['x']);
    const s = await loadModel(b.build([y]));
    await expect(
      s.gradients(float32([1, 2, 3, 4], [1, 4]), { objective: [{ tensor: y, weights: onesSeed([1, 4]) }] }),
    ).rejects.toThrow(/no gradient rule for op Sin at node "sin_0"; supported ops: Abs, Add,/);
  });

  it('lists layers with shapes for a given input size', async () => {
    const { model } = linearModel();
    const m = await loadModel(model);
    const layers = await m.layers([4, 2, 2, 2]);
    expect(layers.map((l) => [l.opType, l.shape])).toEqual([
      ['Input', [4, 2, 2, 2]],
      ['Flatten', [4, 8]],
      ['Gemm', [4, 3]],
    ]);
  });
});
