/** Grids for inspection: convolution filters as tiles, and every channel of a feature map. */
import type { ChannelStats } from '../methods/inspect/activations.js';
import type { Tensor } from '../onnx/tensor.js';
import { colorize, colormap } from './colormap.js';
import type { GridRow } from './grid.js';
import type { RgbImage } from './image.js';

/** Scale of a filter tile: 0 is mid-grey, ±max|w| of the filter are 0 and 1, so signs and shapes show. */
function symmetric(values: ArrayLike<number>): (v: number) => number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m > 0 ? (v) => 0.5 + (0.5 * v) / m : () => 0.5;
}

function planesToRgb(
  planes: Float32Array,
  channels: 1 | 3,
  h: number,
  w: number,
  f: (v: number) => number,
): RgbImage {
  const area = h * w;
  const data = new Uint8Array(area * 3);
  for (let j = 0; j < area; j++)
    for (let k = 0; k < 3; k++)
      data[j * 3 + k] = Math.round(
        255 * Math.min(1, Math.max(0, f(planes[(channels === 1 ? 0 : k) * area + j]))),
      );
  return { width: w, height: h, data };
}

export interface FilterGrid {
  rows: GridRow[];
  headers?: string[];
  /** 'rgb': 3 input channels as colour; 'grey': one input channel; 'per-input': a grey tile per (filter, input channel). */
  mode: 'rgb' | 'grey' | 'per-input';
  shown: { filters: number; inputs: number };
}

/**
 * Conv weights [O, I, kh, kw] as tiles, each filter normalised on its own (0.5 + 0.5·w / max|w| over
 * the filter). With I = 3 (a first layer on RGB input) each filter is one colour tile, with I = 1
 * one grey tile, `perRow` to a row; deeper layers get a row per filter and a grey tile per input
 * channel, all at the filter's scale so the input channels it weighs most stand out.
 */
export function filterGrid(
  weights: Tensor,
  options: { perRow?: number; maxFilters?: number; maxInputs?: number } = {},
): FilterGrid {
  const [o, i, kh, kw] = weights.dims;
  const data = weights.data as Float32Array;
  const per = i * kh * kw;
  const filters = Math.min(o, options.maxFilters ?? 64);
  if (i === 1 || i === 3) {
    const perRow = options.perRow ?? 8;
    const rows: GridRow[] = [];
    for (let k = 0; k < filters; k++) {
      const w = data.subarray(k * per, (k + 1) * per);
      if (k % perRow === 0) rows.push({ cells: [] });
      rows[rows.length - 1].cells.push({
        image: planesToRgb(w, i as 1 | 3, kh, kw, symmetric(w)),
        caption: `#${k}`,
        pixelated: true,
      });
    }
    return { rows, mode: i === 3 ? 'rgb' : 'grey', shown: { filters, inputs: i } };
  }
  const inputs = Math.min(i, options.maxInputs ?? 16);
  const rows: GridRow[] = [];
  for (let k = 0; k < filters; k++) {
    const w = data.subarray(k * per, (k + 1) * per);
    const f = symmetric(w);
    rows.push({
      label: `filter ${k}`,
      cells: Array.from({ length: inputs }, (_, c) => ({
        image: planesToRgb(w.subarray(c * kh * kw, (c + 1) * kh * kw), 1, kh, kw, f),
        pixelated: true,
      })),
    });
  }
  return {
    rows,
    headers: Array.from({ length: inputs }, (_, c) => `in ${c}`),
    mode: 'per-input',
    shown: { filters, inputs },
  };
}

export const ACTIVATION_SCALES = ['shared', 'channel'] as const;
export type ActivationScale = (typeof ACTIVATION_SCALES)[number];

/**
 * Every channel of sample `index` of a [N, C, H, W] map as viridis tiles, `perRow` to a row,
 * scaled from the min to the max of all channels ('shared': channels compare) or of each channel
 * ('channel': each channel's pattern shows). Captions give the channel and its max.
 */
export function channelGrid(
  data: Float32Array,
  dims: number[],
  index: number,
  stats: ChannelStats[],
  options: { scale?: ActivationScale; maxChannels?: number; perRow?: number } = {},
): GridRow[] {
  const [, c, h, w] = dims;
  const area = h * w;
  const shown = Math.min(c, options.maxChannels ?? 64);
  const perRow = options.perRow ?? 8;
  const lut = colormap('viridis');
  const lo = Math.min(...stats.map((s) => s.min));
  const hi = Math.max(...stats.map((s) => s.max));
  const rows: GridRow[] = [];
  for (let k = 0; k < shown; k++) {
    const [a, b] = options.scale === 'channel' ? [stats[k].min, stats[k].max] : [lo, hi];
    const plane = data.subarray((index * c + k) * area, (index * c + k + 1) * area);
    const unit = Float32Array.from(plane, (v) => (b > a ? (v - a) / (b - a) : 0));
    if (k % perRow === 0) rows.push({ cells: [] });
    rows[rows.length - 1].cells.push({
      image: { width: w, height: h, data: colorize(unit, lut) },
      caption: `c${k} max ${stats[k].max.toPrecision(3)}`,
      pixelated: true,
    });
  }
  return rows;
}

/**
 * The input pixels [y0, x0, y1, x1) of a C×H×W image (values in [0, 1]) as RGB; pixels outside the
 * image are black (zero padding), so border crops keep the field's size.
 */
export function cropRegion(
  image: Float32Array,
  channels: number,
  height: number,
  width: number,
  region: readonly [number, number, number, number],
): RgbImage {
  const [y0, x0, y1, x1] = region;
  const h = y1 - y0;
  const w = x1 - x0;
  const area = height * width;
  const data = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const sy = y0 + y;
      const sx = x0 + x;
      if (sy < 0 || sx < 0 || sy >= height || sx >= width) continue;
      for (let k = 0; k < 3; k++) {
        const v = image[(channels === 1 ? 0 : k) * area + sy * width + sx];
        data[(y * w + x) * 3 + k] = Math.round(255 * Math.min(1, Math.max(0, v)));
      }
    }
  return { width: w, height: h, data };
}
