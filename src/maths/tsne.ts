/**
 * Barnes–Hut t-SNE in two dimensions (van der Maaten 2014, "Accelerating t-SNE using tree-based
 * algorithms"). Input affinities use the 3·perplexity exact nearest neighbours of each point with a
 * bandwidth found by bisection so each conditional distribution has the requested perplexity
 * (van der Maaten & Hinton 2008, eq. 1), symmetrised: p_ij = (p_j|i + p_i|j) / 2n. The gradient
 * (eq. 5) splits into attraction over those sparse p_ij and repulsion over all pairs, approximated
 * with a quadtree: a cell far enough (its size / distance < θ) acts as one point at its centre of mass.
 *   ∂C/∂y_i = 4 [α Σ_j p_ij q̃_ij (y_i − y_j) − Σ_j q̃_ij² (y_i − y_j) / Z],  q̃_ij = 1 / (1 + ‖y_i − y_j‖²),  Z = Σ q̃
 * Optimisation follows the reference implementation: early exaggeration α = 12 for 250 iterations,
 * momentum 0.5 then 0.8, per-coordinate gains; the learning rate defaults to max(n / α / 4, 50)
 * (Belkina et al. 2019). Initialisation is PCA scaled to std 1e-4 (Kobak & Linderman 2021) or seeded noise.
 */
import { nearestNeighbours, type Points } from './neighbours.js';
import { pca } from './pca.js';
import { Random } from './random.js';

export interface TsneOptions {
  perplexity?: number;
  iterations?: number;
  earlyExaggeration?: number;
  exaggerationIterations?: number;
  /** 'auto' (default) is max(n / earlyExaggeration / 4, 50). */
  learningRate?: number | 'auto';
  /** Barnes–Hut accuracy: 0 is exact, larger is faster (default 0.5). */
  theta?: number;
  init?: 'pca' | 'random';
  seed?: number;
  onProgress?: (p: { iteration: number; iterations: number }) => void;
}

export interface TsneResult {
  /** n × 2, row-major. */
  embedding: Float64Array;
  /** KL(P ‖ Q) of the final embedding (Q from the same tree approximation). */
  kl: number;
  params: Required<Omit<TsneOptions, 'onProgress' | 'learningRate'>> & { learningRate: number };
}

/** Sparse symmetric P (CSR). */
interface Affinities {
  rowStart: Int32Array;
  cols: Int32Array;
  vals: Float64Array;
}

/** p_j|i over each point's neighbours with perplexity `perplexity`, symmetrised and normalised to sum 1. */
export function affinities(points: Points, perplexity: number): Affinities {
  const n = points.n;
  const k = Math.min(n - 1, Math.floor(3 * perplexity));
  if (perplexity <= 0 || perplexity >= n)
    throw new Error(`perplexity must be in (0, ${n}) for ${n} points, got ${perplexity}`);
  const nn = nearestNeighbours(points, k, 'l2');
  const cond = new Float64Array(n * k);
  const target = Math.log(perplexity);
  for (let i = 0; i < n; i++) {
    const o = i * k;
    const d0 = nn.distances[o];
    let beta = 1;
    let lo = 0;
    let hi = Number.POSITIVE_INFINITY;
    for (let iter = 0; iter < 200; iter++) {
      let sum = 0;
      let dsum = 0;
      for (let t = 0; t < k; t++) {
        const p = Math.exp(-beta * (nn.distances[o + t] - d0));
        cond[o + t] = p;
        sum += p;
        dsum += (nn.distances[o + t] - d0) * p;
      }
      const entropy = Math.log(sum) + (beta * dsum) / sum;
      for (let t = 0; t < k; t++) cond[o + t] /= sum;
      if (Math.abs(entropy - target) < 1e-5) break;
      if (entropy > target) {
        lo = beta;
        beta = hi === Number.POSITIVE_INFINITY ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = (beta + lo) / 2;
      }
    }
  }
  // Symmetrise: row i gets p_j|i from its own list and p_i|j from every j that lists i.
  const counts = new Int32Array(n + 1);
  for (let i = 0; i < n; i++)
    for (let t = 0; t < k; t++) {
      counts[i + 1]++;
      counts[nn.indices[i * k + t] + 1]++;
    }
  for (let i = 0; i < n; i++) counts[i + 1] += counts[i];
  const fill = counts.slice(0, n);
  const rawCols = new Int32Array(counts[n]);
  const rawVals = new Float64Array(counts[n]);
  for (let i = 0; i < n; i++)
    for (let t = 0; t < k; t++) {
      const j = nn.indices[i * k + t];
      const p = cond[i * k + t];
      rawCols[fill[i]] = j;
      rawVals[fill[i]++] = p;
      rawCols[fill[j]] = i;
      rawVals[fill[j]++] = p;
    }
  // Combine duplicates per row.
  const acc = new Float64Array(n);
  const rowStart = new Int32Array(n + 1);
  const cols: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < n; i++) {
    const touched: number[] = [];
    for (let e = counts[i]; e < counts[i + 1]; e++) {
      if (acc[rawCols[e]] === 0) touched.push(rawCols[e]);
      acc[rawCols[e]] += rawVals[e];
    }
    for (const j of touched) {
      cols.push(j);
      vals.push(acc[j] / (2 * n));
      acc[j] = 0;
    }
    rowStart[i + 1] = cols.length;
  }
  return { rowStart, cols: Int32Array.from(cols), vals: Float64Array.from(vals) };
}

/**
 * A quadtree over 2-D points in flat arrays. A node splits into four children stored side by side,
 * so one index (`first`, −1 for a leaf) reaches them all; each node keeps its point count, centre of
 * mass and squared side length.
 */
/** Coincident points stop splitting at this depth and share a leaf. */
const MAX_DEPTH = 48;

class QuadTree {
  private cap = 0;
  /** Traversal stack: a depth-first walk holds at most 3 siblings per level plus 4 children. */
  readonly stack = new Int32Array(4 * (MAX_DEPTH + 2) + 8);
  cx = new Float64Array(0); // centre of mass (sum while building)
  cy = new Float64Array(0);
  count = new Int32Array(0);
  x0 = new Float64Array(0);
  y0 = new Float64Array(0);
  size = new Float64Array(0);
  size2 = new Float64Array(0);
  first = new Int32Array(0); // first of four children, −1 for a leaf
  point = new Int32Array(0); // the point a leaf holds (−1 when none or split)
  leafOf = new Int32Array(0); // per point, the leaf that holds it
  nodes = 0;

  private grow(need: number) {
    if (need <= this.cap) return;
    const cap = Math.max(need, this.cap * 2, 1024);
    const f = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    const g = (a: Int32Array) => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.cx = f(this.cx);
    this.cy = f(this.cy);
    this.x0 = f(this.x0);
    this.y0 = f(this.y0);
    this.size = f(this.size);
    this.size2 = f(this.size2);
    this.count = g(this.count);
    this.first = g(this.first);
    this.point = g(this.point);
    this.cap = cap;
  }

  private init(i: number, x0: number, y0: number, size: number) {
    this.x0[i] = x0;
    this.y0[i] = y0;
    this.size[i] = size;
    this.size2[i] = size * size;
    this.cx[i] = 0;
    this.cy[i] = 0;
    this.count[i] = 0;
    this.point[i] = -1;
    this.first[i] = -1;
  }

  private split(v: number) {
    this.grow(this.nodes + 4);
    const c = this.nodes;
    this.nodes += 4;
    const half = this.size[v] / 2;
    for (let s = 0; s < 4; s++)
      this.init(c + s, this.x0[v] + (s & 1) * half, this.y0[v] + (s >> 1) * half, half);
    this.first[v] = c;
  }

  build(y: Float64Array, n: number) {
    let minX = Number.POSITIVE_INFINITY;
    let minY = Number.POSITIVE_INFINITY;
    let maxX = Number.NEGATIVE_INFINITY;
    let maxY = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      minX = Math.min(minX, y[2 * i]);
      maxX = Math.max(maxX, y[2 * i]);
      minY = Math.min(minY, y[2 * i + 1]);
      maxY = Math.max(maxY, y[2 * i + 1]);
    }
    const size = Math.max(maxX - minX, maxY - minY) * (1 + 1e-9) + 1e-12;
    this.grow(1);
    this.nodes = 1;
    this.init(0, minX, minY, size);
    if (this.leafOf.length !== n) this.leafOf = new Int32Array(n);
    for (let i = 0; i < n; i++) this.insert(y, i);
    for (let v = 0; v < this.nodes; v++)
      if (this.count[v] > 0) {
        this.cx[v] /= this.count[v];
        this.cy[v] /= this.count[v];
      }
  }

  private insert(y: Float64Array, p: number) {
    const px = y[2 * p];
    const py = y[2 * p + 1];
    let v = 0;
    for (let depth = 0; ; depth++) {
      this.cx[v] += px;
      this.cy[v] += py;
      this.count[v]++;
      if (this.first[v] < 0) {
        // A first point, or coincident points (depth exhausted), stay in this leaf.
        if (this.count[v] === 1 || depth > MAX_DEPTH) {
          if (this.count[v] === 1) this.point[v] = p;
          this.leafOf[p] = v;
          return;
        }
        // Push the resident point down a level.
        const q = this.point[v];
        this.point[v] = -1;
        this.split(v);
        const c = this.childFor(v, y[2 * q], y[2 * q + 1]);
        this.cx[c] = y[2 * q];
        this.cy[c] = y[2 * q + 1];
        this.count[c] = 1;
        this.point[c] = q;
        this.leafOf[q] = c;
      }
      v = this.childFor(v, px, py);
    }
  }

  private childFor(v: number, px: number, py: number): number {
    const half = this.size[v] / 2;
    return this.first[v] + (px >= this.x0[v] + half ? 1 : 0) + (py >= this.y0[v] + half ? 2 : 0);
  }
}

/**
 * Barnes–Hut repulsion on point i: writes Σ_j q̃_ij² (y_i − y_j) to out[2i], out[2i+1] and returns
 * Σ_{j≠i} q̃_ij. A cell acts as one point at its centre of mass when size / distance < θ.
 */
function repulsion(tree: QuadTree, y: Float64Array, i: number, theta2: number, out: Float64Array) {
  const { cx, cy, count, size2, first, stack } = tree;
  const own = tree.leafOf[i];
  const yx = y[2 * i];
  const yy = y[2 * i + 1];
  let z = 0;
  let fx = 0;
  let fy = 0;
  let top = 0;
  stack[top++] = 0;
  while (top > 0) {
    const v = stack[--top];
    const c = count[v];
    if (c === 0) continue;
    const dx = yx - cx[v];
    const dy = yy - cy[v];
    const d2 = dx * dx + dy * dy;
    const f = first[v];
    if (f < 0 || size2[v] < theta2 * d2) {
      // The leaf holding i itself (alone or with coincident points) counts only the others.
      const mass = v === own ? c - 1 : c;
      if (mass <= 0) continue;
      const q = 1 / (1 + d2);
      z += mass * q;
      const m = mass * q * q;
      fx += m * dx;
      fy += m * dy;
    } else {
      stack[top++] = f;
      stack[top++] = f + 1;
      stack[top++] = f + 2;
      stack[top++] = f + 3;
    }
  }
  out[2 * i] = fx;
  out[2 * i + 1] = fy;
  return z;
}

/**
 * Barnes–Hut estimate of the t-SNE repulsion for a 2-D embedding y (n × 2, row-major): per point
 * Σ_j q̃_ij² (y_i − y_j) in `forces`, and Z = Σ_{i≠j} q̃_ij. θ = 0 is exact.
 */
export function tsneRepulsion(y: Float64Array, theta: number): { forces: Float64Array; z: number } {
  const forces = new Float64Array(y.length);
  return { forces, z: repulsions(new QuadTree(), y, y.length / 2, theta * theta, forces) };
}

/** (Re)build `tree` over y and write every point's repulsion to `out`; returns Z = Σ_{i≠j} q̃_ij. */
function repulsions(tree: QuadTree, y: Float64Array, n: number, theta2: number, out: Float64Array): number {
  tree.build(y, n);
  let z = 0;
  for (let i = 0; i < n; i++) z += repulsion(tree, y, i, theta2, out);
  return z;
}

/**
 * Embed n points (row-major n × d) in 2-D with Barnes–Hut t-SNE.
 *
 * @example
 * ```ts
 * const { embedding } = tsne({ data: features, n: 2000, d: 64 }, { perplexity: 30, seed: 0 });
 * ```
 */
export function tsne(points: Points, options: TsneOptions = {}): TsneResult {
  const n = points.n;
  if (n < 4) throw new Error(`t-SNE needs at least 4 points, got ${n}`);
  const perplexity = options.perplexity ?? Math.min(30, (n - 1) / 3);
  const iterations = options.iterations ?? 1000;
  const exaggeration = options.earlyExaggeration ?? 12;
  const exaggerationIterations = Math.min(options.exaggerationIterations ?? 250, iterations);
  const theta = options.theta ?? 0.5;
  const seed = options.seed ?? 0;
  const init = options.init ?? 'pca';
  const lr =
    options.learningRate === undefined || options.learningRate === 'auto'
      ? Math.max(n / exaggeration / 4, 50)
      : options.learningRate;
  if (!(lr > 0)) throw new Error(`learning rate must be positive, got ${lr}`);
  if (!(theta >= 0)) throw new Error(`theta must be ≥ 0, got ${theta}`);
  const P = affinities(points, perplexity);

  const y = new Float64Array(2 * n);
  if (init === 'pca') {
    const proj = pca(points, 2).projection;
    let m = 0;
    let s = 0;
    for (let i = 0; i < n; i++) m += proj[2 * i];
    m /= n;
    for (let i = 0; i < n; i++) s += (proj[2 * i] - m) ** 2;
    const scale = 1e-4 / (Math.sqrt(s / n) || 1);
    for (let i = 0; i < 2 * n; i++) y[i] = proj[i] * scale;
  } else {
    const r = new Random(seed);
    for (let i = 0; i < 2 * n; i++) y[i] = 1e-4 * r.normal();
  }
  const update = new Float64Array(2 * n);
  const gains = new Float64Array(2 * n).fill(1);
  const grad = new Float64Array(2 * n);
  const tree = new QuadTree();
  const theta2 = theta * theta;

  for (let it = 0; it < iterations; it++) {
    const alpha = it < exaggerationIterations ? exaggeration : 1;
    const momentum = it < exaggerationIterations ? 0.5 : 0.8;
    const z = repulsions(tree, y, n, theta2, grad);
    for (let i = 0; i < n; i++) {
      let ax = 0;
      let ay = 0;
      for (let e = P.rowStart[i]; e < P.rowStart[i + 1]; e++) {
        const j = P.cols[e];
        const dx = y[2 * i] - y[2 * j];
        const dy = y[2 * i + 1] - y[2 * j + 1];
        const m = P.vals[e] / (1 + dx * dx + dy * dy);
        ax += m * dx;
        ay += m * dy;
      }
      grad[2 * i] = 4 * (alpha * ax - grad[2 * i] / z);
      grad[2 * i + 1] = 4 * (alpha * ay - grad[2 * i + 1] / z);
    }
    for (let t = 0; t < 2 * n; t++) {
      gains[t] =
        Math.sign(grad[t]) !== Math.sign(update[t]) ? gains[t] + 0.2 : Math.max(0.01, gains[t] * 0.8);
      update[t] = momentum * update[t] - lr * gains[t] * grad[t];
      y[t] += update[t];
    }
    // Keep the embedding centred.
    let mx = 0;
    let my = 0;
    for (let i = 0; i < n; i++) {
      mx += y[2 * i];
      my += y[2 * i + 1];
    }
    mx /= n;
    my /= n;
    for (let i = 0; i < n; i++) {
      y[2 * i] -= mx;
      y[2 * i + 1] -= my;
    }
    if (!Number.isFinite(mx) || !Number.isFinite(my))
      throw new Error(`t-SNE diverged at iteration ${it} (try a smaller learning rate)`);
    options.onProgress?.({ iteration: it + 1, iterations });
  }
  // KL(P‖Q) = Σ p log(p / q), q_ij = q̃_ij / Z.
  const z = repulsions(tree, y, n, theta2, new Float64Array(2 * n));
  let kl = 0;
  for (let i = 0; i < n; i++)
    for (let e = P.rowStart[i]; e < P.rowStart[i + 1]; e++) {
      const j = P.cols[e];
      const q = 1 / (1 + (y[2 * i] - y[2 * j]) ** 2 + (y[2 * i + 1] - y[2 * j + 1]) ** 2) / z;
      const p = P.vals[e];
      if (p > 0) kl += p * Math.log(p / Math.max(q, 1e-300));
    }
  return {
    embedding: y,
    kl,
    params: {
      perplexity,
      iterations,
      earlyExaggeration: exaggeration,
      exaggerationIterations,
      theta,
      init,
      seed,
      learningRate: lr,
    },
  };
}
