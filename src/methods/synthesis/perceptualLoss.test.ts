import { describe, expect, it } from 'vitest';
import { Random } from '../../maths/random.js';
import { float32 } from '../../onnx/tensor.js';
import { modelLoader } from '../../runtime/testModels.js';
import { gramMatrix } from './objective.js';
import { PERCEPTUAL, perceptualLossModel, styleTargets } from './perceptualLoss.js';
import { randomFeatureNetwork } from './randomFeatures.js';
import { toModelInput } from './synthesize.js';

const load = modelLoader();
const [H, W] = [8, 12];
const image = (seed: number, n = 1, h = H, w = W) => ({
  pixels: Float32Array.from(new Random(seed).normals(n * 3 * h * w, 0.25), (v) => 0.5 + v),
  size: [h, w] as [number, number],
});
const meanSquare = (v: ArrayLike<number>) => Array.from(v).reduce((s, x) => s + x * x, 0) / v.length;

describe('the perceptual loss graph', async () => {
  const rf = randomFeatureNetwork({ sizes: [3, 5], filters: 4, seed: 2 });
  const p = rf.preprocessing;
  const spec = {
    contentLayer: 'rf5',
    styleLayers: ['rf3', 'rf5'],
    contentWeight: 2,
    styleWeight: 3,
    tvWeight: 0.5,
  };
  const lossNet = await load(rf.model);
  const styles = [image(10, 1, 10, 10), image(11, 1, 12, 9)];
  const targets = await styleTargets(lossNet, p, styles, spec.styleLayers);
  const judge = await load(perceptualLossModel(rf.model, p, spec, targets));

  /** Features of a batch of [0, 1] pixels at a layer, in float32 from the loss network itself. */
  const features = async (pixels: Float32Array, n: number) =>
    lossNet.run(float32(toModelInput(pixels, p, [H, W]), [n, 3, H, W]), { outputs: ['rf3', 'rf5'] });

  it('equals the terms computed from the loss network’s features, per sample and style mix', async () => {
    const candidate = image(1, 2);
    const content = image(2, 2);
    const w = [
      [1, 0],
      [0.25, 0.75],
    ];
    const out = await judge.run({
      [PERCEPTUAL.candidate]: float32(candidate.pixels, [2, 3, H, W]),
      [PERCEPTUAL.content]: float32(content.pixels, [2, 3, H, W]),
      [PERCEPTUAL.style]: float32(w.flat(), [2, 2]),
    });
    const value = (name: string) => (out[name].data as Float32Array)[0];
    const fy = await features(candidate.pixels, 2);
    const fx = await features(content.pixels, 2);
    const per = (t: { data: unknown; dims: number[] }, i: number) => {
      const size = t.dims.slice(1).reduce((a, b) => a * b, 1);
      return (t.data as Float32Array).subarray(i * size, (i + 1) * size);
    };
    let content64 = 0;
    const style64 = [0, 0];
    for (let i = 0; i < 2; i++) {
      const [y, x] = [per(fy.rf5, i), per(fx.rf5, i)];
      content64 += meanSquare(y.map((v, j) => v - x[j])) / meanSquare(x) / 2;
      spec.styleLayers.forEach((layer, l) => {
        const g = gramMatrix(fy[layer].data as Float32Array, fy[layer].dims, i);
        const grams = targets.grams.map((s) => s[l]);
        const target = g.map((_, j) => w[i][0] * grams[0][j] + w[i][1] * grams[1][j]);
        const inverse = w[i][0] / meanSquare(grams[0]) + w[i][1] / meanSquare(grams[1]);
        style64[l] += (meanSquare(g.map((v, j) => v - target[j])) * inverse) / 2;
      });
    }
    let dv = 0;
    let dh = 0;
    const c = candidate.pixels;
    for (let plane = 0; plane < 6; plane++)
      for (let r = 0; r < H; r++)
        for (let k = 0; k < W; k++) {
          const at = (plane * H + r) * W + k;
          if (r + 1 < H) dv += (c[at + W] - c[at]) ** 2 / (6 * (H - 1) * W);
          if (k + 1 < W) dh += (c[at + 1] - c[at]) ** 2 / (6 * H * (W - 1));
        }
    const expected: [string, number][] = [
      [PERCEPTUAL.contentTerm, spec.contentWeight * content64],
      [PERCEPTUAL.styleTerm('rf3'), spec.styleWeight * style64[0]],
      [PERCEPTUAL.styleTerm('rf5'), spec.styleWeight * style64[1]],
      [PERCEPTUAL.tvTerm, spec.tvWeight * (dv + dh)],
      [PERCEPTUAL.loss, spec.contentWeight * content64 + spec.styleWeight * (style64[0] + style64[1])],
    ];
    // Sums of at most a few hundred float32 products: relative rounding below 1e-5; 1e-4 leaves
    // ten times that, and a wrong normaliser or weight is off by O(1).
    for (const [name, v] of expected) expect(Math.abs(value(name) - v) / v, name).toBeLessThan(1e-4);
    expect(value(PERCEPTUAL.objective)).toBeCloseTo(value(PERCEPTUAL.loss) + value(PERCEPTUAL.tvTerm), 5);
  });

  it('scores a style image against its own style at zero style loss, at any size', async () => {
    const s = styles[1];
    const out = await judge.run({
      [PERCEPTUAL.candidate]: float32(s.pixels, [1, 3, ...s.size]),
      [PERCEPTUAL.content]: float32(s.pixels, [1, 3, ...s.size]),
      [PERCEPTUAL.style]: float32([0, 1], [1, 2]),
    });
    const value = (name: string) => (out[name].data as Float32Array)[0];
    expect(value(PERCEPTUAL.contentTerm)).toBe(0);
    expect(value(PERCEPTUAL.styleTerm('rf3'))).toBeLessThan(1e-9);
    // …and against the other style at a clearly positive one.
    const other = await judge.run({
      [PERCEPTUAL.candidate]: float32(s.pixels, [1, 3, ...s.size]),
      [PERCEPTUAL.content]: float32(s.pixels, [1, 3, ...s.size]),
      [PERCEPTUAL.style]: float32([1, 0], [1, 2]),
    });
    expect((other[PERCEPTUAL.styleTerm('rf3')].data as Float32Array)[0]).toBeGreaterThan(1e-3);
  });

  it('refuses loss networks it cannot judge with', () => {
    expect(() => perceptualLossModel(rf.model, { ...p, channels: 1 }, spec, targets)).toThrow(/RGB input/);
    expect(() => perceptualLossModel({ ...rf.model, opsets: { '': 10 } }, p, spec, targets)).toThrow(
      /opset 10; re-export it at opset 11 or later/,
    );
  });
});
