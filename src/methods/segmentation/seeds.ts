/**
 * Seeds for GrabCut from a saliency map, as Simonyan, Vedaldi & Zisserman 2014 (§3.2) take them:
 * the pixels above the map's `fg` quantile are foreground, those below its `bg` quantile
 * background (0.95 and 0.3 in the paper); GrabCut labels the rest.
 */

/** OpenCV's GrabCut labels. */
export const GRABCUT_LABELS = {
  background: 0,
  foreground: 1,
  probablyBackground: 2,
  probablyForeground: 3,
} as const;

export interface SeedFractions {
  /** Quantile above which pixels are foreground seeds, in (0, 1) (default 0.95: the top 5%). */
  fg: number;
  /** Quantile below which pixels are background seeds, in (0, 1), below `fg` (default 0.3). */
  bg: number;
}

export const DEFAULT_SEEDS: SeedFractions = { fg: 0.95, bg: 0.3 };

/** Throws unless 0 < bg < fg < 1, naming the bad value. */
export function checkSeedFractions({ fg, bg }: SeedFractions): void {
  for (const [name, v] of [
    ['fg', fg],
    ['bg', bg],
  ] as const)
    if (!(v > 0 && v < 1)) throw new Error(`--${name} must be a quantile in (0, 1), got ${v}`);
  if (!(bg < fg)) throw new Error(`--bg (${bg}) must be below --fg (${fg})`);
}

export interface Seeds {
  /** One GrabCut label per pixel. */
  labels: Uint8Array;
  /** Pixels ≥ this are foreground seeds, ≤ `background` background seeds. */
  thresholds: { foreground: number; background: number };
  counts: { foreground: number; background: number };
  /** The map does not rise from its background quantile to its foreground one: nothing to grow. */
  flat: boolean;
}

/**
 * GrabCut labels from a map of one value per pixel. With n pixels sorted ascending, the foreground
 * threshold is the value at rank ⌊fg·n⌋ and the background one at rank ⌈bg·n⌉ − 1, so distinct
 * values give exactly n − ⌊fg·n⌋ foreground and ⌈bg·n⌉ background seeds. Pixels between are
 * probably foreground when nearer the foreground threshold, else probably background.
 *
 * @example
 * const { labels } = seedLabels(saliencyPlane, { fg: 0.95, bg: 0.3 });
 */
export function seedLabels(map: ArrayLike<number>, fractions: SeedFractions = DEFAULT_SEEDS): Seeds {
  checkSeedFractions(fractions);
  const n = map.length;
  if (n === 0) throw new Error('seedLabels: the map is empty');
  const sorted = Float64Array.from(map).sort();
  if (!Number.isFinite(sorted[0]) || !Number.isFinite(sorted[n - 1]))
    throw new Error('seedLabels: the map holds a non-finite value');
  const foreground = sorted[Math.min(n - 1, Math.floor(fractions.fg * n))];
  const background = sorted[Math.max(0, Math.ceil(fractions.bg * n) - 1)];
  const labels = new Uint8Array(n);
  const flat = !(foreground > background);
  const middle = (foreground + background) / 2;
  const counts = { foreground: 0, background: 0 };
  const L = GRABCUT_LABELS;
  for (let i = 0; i < n; i++) {
    const v = map[i];
    if (flat) labels[i] = L.background;
    else if (v >= foreground) labels[i] = L.foreground;
    else if (v <= background) labels[i] = L.background;
    else labels[i] = v >= middle ? L.probablyForeground : L.probablyBackground;
    if (labels[i] === L.foreground) counts.foreground++;
    if (labels[i] === L.background) counts.background++;
  }
  return { labels, thresholds: { foreground, background }, counts, flat };
}
