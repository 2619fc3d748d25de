/**
 * Colormaps as 256-entry RGB lookup tables. Perceptual maps come from d3-scale-chromatic (turbo:
 * Mikhailov 2019; viridis and inferno: van der Walt & Smith 2015; RdBu: Brewer); jet is MATLAB's
 * piecewise-linear map, kept because papers and users expect it.
 */
import { rgb } from 'd3-color';
import {
  interpolateInferno,
  interpolateRdBu,
  interpolateTurbo,
  interpolateViridis,
} from 'd3-scale-chromatic';

export const COLORMAPS = ['jet', 'turbo', 'viridis', 'inferno', 'grey', 'diverging'] as const;
export type ColormapName = (typeof COLORMAPS)[number];

/** 256 × RGB, row-major. */
export type Lut = Uint8Array;

function fromInterpolator(f: (t: number) => string): Lut {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const c = rgb(f(i / 255));
    lut[i * 3] = Math.round(c.r);
    lut[i * 3 + 1] = Math.round(c.g);
    lut[i * 3 + 2] = Math.round(c.b);
  }
  return lut;
}

/** MATLAB jet: blue → cyan → yellow → red, each channel a clipped tent. */
function jet(t: number): [number, number, number] {
  const ch = (offset: number) => Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - offset)));
  return [ch(3), ch(2), ch(1)];
}

const cache = new Map<ColormapName, Lut>();

/** The lookup table of a colormap; throws listing the valid names. */
export function colormap(name: string): Lut {
  if (!(COLORMAPS as readonly string[]).includes(name))
    throw new Error(`unknown colormap "${name}"; valid: ${COLORMAPS.join(', ')}`);
  const key = name as ColormapName;
  let lut = cache.get(key);
  if (lut) return lut;
  if (key === 'jet' || key === 'grey') {
    lut = new Uint8Array(256 * 3);
    for (let i = 0; i < 256; i++) {
      const c = key === 'jet' ? jet(i / 255) : [i / 255, i / 255, i / 255];
      for (let k = 0; k < 3; k++) lut[i * 3 + k] = Math.round(c[k] * 255);
    }
  } else {
    // Diverging: negative blue, zero white, positive red (RdBu reversed so red means "for").
    const f = {
      turbo: interpolateTurbo,
      viridis: interpolateViridis,
      inferno: interpolateInferno,
      diverging: (t: number) => interpolateRdBu(1 - t),
    }[key];
    lut = fromInterpolator(f);
  }
  cache.set(key, lut);
  return lut;
}

/** RGB bytes (H·W·3) of values in [0, 1] (clamped) through a colormap. */
export function colorize(values: Float32Array, lut: Lut): Uint8Array {
  const out = new Uint8Array(values.length * 3);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const k = Number.isFinite(v) ? Math.round(Math.min(1, Math.max(0, v)) * 255) : 0;
    out[i * 3] = lut[k * 3];
    out[i * 3 + 1] = lut[k * 3 + 1];
    out[i * 3 + 2] = lut[k * 3 + 2];
  }
  return out;
}
