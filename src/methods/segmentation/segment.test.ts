import { describe, expect, it } from 'vitest';
import '../../node.js';
import type { RgbImage } from '../../render/image.js';
import { grabCut } from './grabcut.js';
import { checkSeedFractions, GRABCUT_LABELS, seedLabels } from './seeds.js';
import { maskIoU, segmentFromMap } from './segment.js';

const W = 64;
const H = 48;
const inDisc = (x: number, y: number) => (x - 30) ** 2 + (y - 22) ** 2 < 14 ** 2;
/** A flat red disc on a flat blue-grey background. */
function discImage(): { image: RgbImage; truth: Uint8Array } {
  const data = new Uint8Array(W * H * 3);
  const truth = new Uint8Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const d = inDisc(x, y);
      truth[y * W + x] = d ? 1 : 0;
      data.set(d ? [210, 40, 50] : [70, 90, 120], (y * W + x) * 3);
    }
  return { image: { width: W, height: H, data }, truth };
}

describe('seeds from map quantiles', () => {
  it('take exactly the top and bottom fractions of distinct values', () => {
    const n = 200;
    // A shuffled ramp: value i/n at a scattered position.
    const map = Float32Array.from({ length: n }, (_, i) => ((i * 37) % n) / n);
    const { labels, counts, thresholds } = seedLabels(map, { fg: 0.95, bg: 0.3 });
    expect(counts).toEqual({ foreground: n - Math.floor(0.95 * n), background: Math.ceil(0.3 * n) });
    expect(thresholds).toEqual({ foreground: Math.fround(190 / n), background: Math.fround(59 / n) });
    const L = GRABCUT_LABELS;
    for (let i = 0; i < n; i++) {
      const v = map[i];
      const [hi, lo] = [Math.fround(190 / n), Math.fround(59 / n)];
      const want =
        v >= hi
          ? L.foreground
          : v <= lo
            ? L.background
            : v >= (hi + lo) / 2
              ? L.probablyForeground
              : L.probablyBackground;
      expect(labels[i], `pixel ${i} (${v})`).toBe(want);
    }
  });

  it('a flat map seeds nothing and segments to an empty mask', async () => {
    const { image } = discImage();
    const s = await segmentFromMap(image, { data: new Float32Array(4).fill(0.3), height: 2, width: 2 });
    expect(s.seeds.flat).toBe(true);
    expect(s.mask.every((v) => v === 0)).toBe(true);
  });

  it.each([
    [{ fg: 0.3, bg: 0.3 }, /--bg \(0.3\) must be below --fg \(0.3\)/],
    [{ fg: 0.2, bg: 0.5 }, /--bg \(0.5\) must be below --fg \(0.2\)/],
    [{ fg: 1, bg: 0.3 }, /--fg must be a quantile in \(0, 1\), got 1/],
    [{ fg: 0.9, bg: 0 }, /--bg must be a quantile in \(0, 1\), got 0/],
    [{ fg: Number.NaN, bg: 0.3 }, /--fg must be a quantile in \(0, 1\), got NaN/],
  ])('refuses %o', (f, error) => expect(() => checkSeedFractions(f)).toThrow(error));
});

describe('GrabCut from saliency seeds', () => {
  it('grows seeds on a flat disc into the disc (IoU ≥ 0.95)', async () => {
    const { image, truth } = discImage();
    // High on the disc, peaking at its centre; low outside: a coarse map, as a CAM would be.
    const h = 12;
    const w = 16;
    const map = Float32Array.from({ length: h * w }, (_, k) => {
      const x = ((k % w) + 0.5) * (W / w);
      const y = (Math.floor(k / w) + 0.5) * (H / h);
      return Math.exp(-((x - 30) ** 2 + (y - 22) ** 2) / (2 * 9 ** 2));
    });
    const s = await segmentFromMap(image, { data: map, height: h, width: w }, { fg: 0.95, bg: 0.3 });
    // Ties on the upsampled map's plateaus join the top 5% at its threshold.
    expect(s.seeds.counts.foreground).toBeGreaterThanOrEqual(W * H - Math.floor(0.95 * W * H));
    // The seeds alone cover a quarter of the disc (a twentieth of the image); GrabCut finds all of it.
    expect(
      maskIoU(
        s.seeds.labels.map((l) => (l === GRABCUT_LABELS.foreground ? 1 : 0)),
        truth,
      ),
    ).toBeLessThan(0.3);
    expect(maskIoU(s.mask, truth)).toBeGreaterThanOrEqual(0.95);
  });

  it('returns the labels when one side has no pixels, and checks its arguments', async () => {
    const { image } = discImage();
    const allForeground = new Uint8Array(W * H).fill(GRABCUT_LABELS.foreground);
    expect((await grabCut(image, allForeground)).every((v) => v === 1)).toBe(true);
    await expect(grabCut(image, new Uint8Array(10))).rejects.toThrow(/grabCut: 10 labels for a 64×48 image/);
    await expect(grabCut(image, allForeground, 0)).rejects.toThrow(/iterations must be a positive integer/);
  });

  it('mask IoU is exact', () => {
    expect(maskIoU([1, 1, 0, 0], [1, 0, 1, 0])).toBe(1 / 3);
    expect(maskIoU([0, 0], [0, 0])).toBe(1);
  });
});
