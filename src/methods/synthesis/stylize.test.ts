import { describe, expect, it } from 'vitest';
import { withStyleCard } from '../../data/styleCard.js';
import { Random } from '../../maths/random.js';
import { nodeBackend } from '../../runtime/node.js';
import { styleNetwork } from '../../train/styleNetwork.js';
import { Stylizer, styleWeights } from './stylize.js';

describe('style weights', () => {
  it.each([
    ['an index', 3, { style: 1 }, [0, 1, 0]],
    ['a mix, scaled to sum 1', 2, { mix: [1, 3] }, [0.25, 0.75]],
    ['a mix with zeros', 3, { mix: [0, 2, 0] }, [0, 1, 0]],
  ] as const)('from %s', (_, count, choice, expected) => {
    expect(Array.from(styleWeights(count, choice))).toEqual(expected);
  });

  it.each([
    ['an index out of range', 2, { style: 2 }, /style index 2 is out of range; the network holds styles 0-1/],
    ['a negative index', 2, { style: -1 }, /style index -1 is out of range/],
    ['a fractional index', 2, { style: 0.5 }, /style index 0.5 is out of range/],
    [
      'a mix of the wrong length',
      3,
      { mix: [1, 1] },
      /the mix has 2 weights; the network holds 3 styles, give 3/,
    ],
    ['a negative weight', 2, { mix: [1, -0.5] }, /mix weights must be finite and ≥ 0, got -0.5/],
    ['a NaN weight', 2, { mix: [1, Number.NaN] }, /mix weights must be finite and ≥ 0, got NaN/],
    ['all-zero weights', 2, { mix: [0, 0] }, /mix weights are all zero/],
  ] as const)('refuses %s', (_, count, choice, error) => {
    expect(() => styleWeights(count, choice)).toThrow(error);
  });
});

describe('Stylizer', async () => {
  const card = {
    name: 'test',
    styles: ['a', 'b'].map((name) => ({ name, source: `${name}.png` })),
    size: 16,
  };
  const stylizer = await Stylizer.open(
    withStyleCard(styleNetwork({ styles: 2, width: 4, residualBlocks: 1, seed: 1 }), card),
    nodeBackend(),
  );

  it.each([
    [16, 16],
    [13, 22],
    [5, 7],
    [2, 3],
  ])('keeps the input size %i×%i, deterministically', async (h, w) => {
    const image = {
      pixels: new Random(h * w).normals(3 * h * w, 0.2).map((v) => v + 0.5),
      size: [h, w] as [number, number],
    };
    const a = await stylizer.stylize(image, { style: 0 });
    const b = await stylizer.stylize(image, { style: 0 });
    expect(a.size).toEqual([h, w]);
    expect(a.pixels.length).toBe(3 * h * w);
    expect(a.pixels).toEqual(b.pixels);
    expect(a.pixels.every((v) => v > 0 && v < 1)).toBe(true);
  });

  it('crops back exactly the pixels of the padded run', async () => {
    // Padding goes on the bottom and right only: the top-left of a 61×62 crop's result matches
    // the top-left of the whole 64×64 image's (up to instance normalisation's global statistics);
    // a result shifted by the padding would not.
    const big = {
      pixels: new Random(3).normals(3 * 64 * 64, 0.2).map((v) => v + 0.5),
      size: [64, 64] as [number, number],
    };
    const cut = new Float32Array(3 * 61 * 62);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 61; y++)
        cut.set(big.pixels.subarray((c * 64 + y) * 64, (c * 64 + y) * 64 + 62), (c * 61 + y) * 62);
    const whole = await stylizer.stylize(big, { style: 1 });
    const part = await stylizer.stylize({ pixels: cut, size: [61, 62] }, { style: 1 });
    expect(part.size).toEqual([61, 62]);
    // Instance normalisation couples every pixel, so the two agree only approximately.
    let diff = 0;
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 8; x++) diff += Math.abs(whole.pixels[y * 64 + x] - part.pixels[y * 62 + x]);
    let shifted = 0;
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 8; x++)
        shifted += Math.abs(whole.pixels[(y + 3) * 64 + x + 2] - part.pixels[y * 62 + x]);
    // Measured: 0.017 aligned against 0.12 for a (3, 2) shift.
    expect(diff).toBeLessThan(shifted / 3);
  });

  it('refuses a model without a style card, and images that are not RGB', async () => {
    await expect(Stylizer.open(styleNetwork({ styles: 1 }), nodeBackend())).rejects.toThrow(
      /not a convlens style network/,
    );
    await expect(
      stylizer.stylize({ pixels: new Float32Array(64), size: [8, 8] }, { style: 0 }),
    ).rejects.toThrow(/RGB images; this image has 1 channels/);
  });
});
