import { LAYERS, TAIL_START, zigguratTables } from './ziggurat.js';

const ziggurat = zigguratTables();

/** Seeded pseudo-random numbers (mulberry32), so every random choice in convlens is reproducible. */
export class Random {
  private state: number;
  private spare: number | undefined;

  constructor(seed = 0) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /**
   * Fill out[start, end) with normal draws N(0, std²) by the ziggurat method: one 32-bit draw per value
   * in ~99% of cases (7 bits pick the layer, 25 give the signed position), several times faster than
   * normal(). A different sequence from normal()'s Box–Muller.
   * @example
   * const noise = new Float32Array(1000);
   * new Random(7).fillNormal(noise, 0.1); // the same 1000 values for seed 7 on every machine
   */
  fillNormal(out: Float32Array, std = 1, start = 0, end = out.length): void {
    const { edge, inner, height } = ziggurat;
    let state = this.state;
    for (let k = start; k < end; k++) {
      for (;;) {
        state = (state + 0x6d2b79f5) | 0;
        let t = Math.imul(state ^ (state >>> 15), state | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        t ^= t >>> 14;
        const layer = t & (LAYERS - 1);
        // u in (−1, 1), symmetric, never 0.
        const u = ((t >>> 7) - 16777215.5) / 16777216;
        if (Math.abs(u) < inner[layer]) {
          out[k] = std * u * edge[layer];
          break;
        }
        this.state = state >>> 0;
        if (layer === 0) {
          const z = this.normalTail();
          out[k] = std * (u < 0 ? -z : z);
          state = this.state;
          break;
        }
        const x = u * edge[layer];
        const y = height[layer] + this.next() * (height[layer + 1] - height[layer]);
        state = this.state;
        if (y < Math.exp(-0.5 * x * x)) {
          out[k] = std * x;
          break;
        }
      }
    }
    this.state = state >>> 0;
  }

  /** |z| conditioned on |z| > R (Marsaglia 1964): x = −ln(U₁)/R, accepted when −2 ln U₂ > x². */
  private normalTail(): number {
    for (;;) {
      const x = -Math.log(1 - this.next()) / TAIL_START;
      const y = -Math.log(1 - this.next());
      if (2 * y > x * x) return TAIL_START + x;
    }
  }

  /** n normal samples scaled by std. */
  normals(n: number, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal() * std;
    return out;
  }
}

/** Shuffled 0..n−1 (Fisher–Yates). */
export function permutation(n: number, rng: Random): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** Seed for item `index` of a sequence seeded with `seed` (a 32-bit integer hash), so any item can be drawn alone. */
export function indexSeed(seed: number, index: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}
