import { describe, expect, it } from 'vitest';
import { nodeBackend } from '../../../runtime/node.js';
import {
  ablation,
  classFractions,
  insertionTrials,
  rankUnits,
  regionAround,
  unitAblationEffects,
  unitEdit,
} from './effects.js';
import { dissectGenerator } from './ganDissect.js';
import { HAND_CLASSES as CLASSES, handGenerator, handSegmenter } from './handModels.js';
import { GanPair, latents } from './pair.js';

const open = (generator = handGenerator(), segmenter = handSegmenter(), classes = CLASSES) =>
  GanPair.open({ generator, segmenter, classes, batch: 4 }, nodeBackend());

/** The class map the hand-built pair draws: red top-left 4×4, green bottom-right 4×4. */
function expectedClasses(redOn = true): Uint8Array {
  const out = new Uint8Array(64);
  for (let y = 0; y < 8; y++)
    for (let x = 0; x < 8; x++) {
      if (redOn && y < 4 && x < 4) out[y * 8 + x] = 1;
      if (y >= 4 && x >= 4) out[y * 8 + x] = 2;
    }
  return out;
}

describe('GAN dissection on a hand-built generator', () => {
  const n = 5;
  const z = latents(0, 0, n, 2);

  it('generates and segments what the units draw', async () => {
    const pair = await open();
    const { classes } = await pair.generate(z, n);
    for (let i = 0; i < n; i++)
      expect([...classes.subarray(i * 64, (i + 1) * 64)]).toEqual([...expectedClasses()]);
    await pair.release();
  });

  it('ablating unit 0 removes exactly the red square and nothing else', async () => {
    const pair = await open();
    const { classes } = await pair.generate(z, n, { edit: ablation(pair, 'units', [0]) });
    for (let i = 0; i < n; i++)
      expect([...classes.subarray(i * 64, (i + 1) * 64)]).toEqual([...expectedClasses(false)]);
    await pair.release();
  });

  it('ranks units by the effect of ablating each alone', async () => {
    const pair = await open();
    const { base, effects } = await unitAblationEffects(pair, 'units', z, n);
    expect([...base]).toEqual([0.5, 0.25, 0.25]);
    expect([...effects[0]]).toEqual([0.25, -0.25, 0]);
    expect([...effects[1]]).toEqual([0.25, 0, -0.25]);
    expect(rankUnits(effects, 1)[0]).toBe(0);
    expect(rankUnits(effects, 2)[0]).toBe(1);
    await pair.release();
  });

  it('inserting unit 0 at a point draws red there in every sample', async () => {
    const pair = await open();
    const region = regionAround(pair, 'units', [1, 6], 0); // cell (0, 3): image pixels x 0–1, y 6–7
    const edit = unitEdit(pair, 'units', [0], 1, region);
    const r = await insertionTrials(pair, edit, region, 1, z, n);
    expect(r).toEqual({ trials: n, appeared: n, before: 0, after: 1, outside: 0 });
    await pair.release();
  });

  it('labels each unit with the class it draws', async () => {
    const pair = await open();
    const result = await dissectGenerator(pair, { layer: 'units', samples: 8 });
    const [u0, u1] = result.layers[0].units;
    expect([u0.label, u1.label]).toEqual(['red', 'green']);
    await pair.release();
  });

  it('class fractions count each class over all pixels', () => {
    expect([...classFractions(Uint8Array.from([0, 1, 1, 2]), 2, 2, 3)]).toEqual([0.25, 0.5, 0.25]);
  });
});

describe('GAN dissection: bad input', () => {
  it('a generator without a latent input', async () => {
    await expect(open(handSegmenter())).rejects.toThrow(/latent vector/);
  });

  it('a layer that is not spatial, a unit out of range, an unknown class', async () => {
    const pair = await open();
    expect(() => pair.layer('z')).toThrow(/not a spatial layer/);
    expect(() => pair.layer('image')).toThrow(/not a spatial layer/);
    expect(() => ablation(pair, 'units', [2])).toThrow(
      /unit 2 is out of range: layer "units" has units 0..1/,
    );
    expect(() => pair.classIndex('circle')).toThrow(/no class "circle"; its classes: background, red, green/);
    await pair.release();
  });

  it('a segmenter whose classes differ from the names given', async () => {
    await expect(open(handGenerator(), handSegmenter(4))).rejects.toThrow(
      /4 output classes but 3 class names/,
    );
  });
});
