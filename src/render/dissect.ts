/**
 * Dissection figures: interpretable units per layer by concept category (a stacked bar per layer,
 * as Bau et al. 2017 Fig. 5), and a unit's top images with its region outlined.
 */
import type * as vega from 'vega';
import { resizeImage } from '../data/dataset.js';
import type { DissectionResult } from '../methods/inspect/dissect/dissect.js';
import type { RgbImage } from './image.js';

/** Category colours (Tableau 10), in the vocabulary's order. */
const CATEGORY_COLOURS = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#e15759',
  '#76b7b2',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
];

/**
 * Stacked bars of labelled units per layer and category; several results (e.g. a trained model and
 * a randomly initialised copy) stand side by side, each bar named "layer · name".
 */
export function dissectionSummarySpec(
  results: readonly { name: string; result: DissectionResult }[],
  options: { title?: string } = {},
): vega.Spec {
  const categories = [...new Set(results.flatMap((r) => r.result.data.categories))];
  const several = results.length > 1;
  const bars = results.flatMap(({ name, result }) =>
    result.layers.map((l) => ({
      bar: several ? `${l.layer} · ${name}` : l.layer,
      layer: l,
      units: l.units.length,
    })),
  );
  const values = bars.flatMap(({ bar, layer, units }) =>
    categories.map((category) => ({ bar, category, units: layer.byCategory[category] ?? 0, total: units })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega/v5.json',
    padding: 8,
    width: Math.max(160, 44 * bars.length),
    height: 220,
    title: options.title ? { text: options.title, anchor: 'start' } : undefined,
    data: [
      {
        name: 'units',
        values,
        transform: [{ type: 'stack', groupby: ['bar'], sort: { field: 'category' }, field: 'units' }],
      },
    ],
    scales: [
      { name: 'x', type: 'band', domain: bars.map((b) => b.bar), range: 'width', padding: 0.2 },
      {
        name: 'y',
        type: 'linear',
        domain: { data: 'units', field: 'y1' },
        range: 'height',
        nice: true,
        zero: true,
      },
      { name: 'colour', type: 'ordinal', domain: categories, range: CATEGORY_COLOURS },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', labelAngle: -40, labelAlign: 'right', labelBaseline: 'middle' },
      { orient: 'left', scale: 'y', title: 'units with a label (IoU > threshold)' },
    ],
    legends: [{ fill: 'colour', title: 'category' }],
    marks: [
      {
        type: 'rect',
        from: { data: 'units' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'bar' },
            width: { scale: 'x', band: 1 },
            y: { scale: 'y', field: 'y0' },
            y2: { scale: 'y', field: 'y1' },
            fill: { scale: 'colour', field: 'category' },
            tooltip: {
              signal: "datum.bar + ' · ' + datum.category + ': ' + datum.units + ' of ' + datum.total",
            },
          },
        },
      },
    ],
  };
}

/**
 * An image with a unit's region (its h×w map upsampled as the dissection does, at ≥ threshold)
 * kept bright and outlined, the rest dimmed.
 */
export function unitRegionImage(
  image: RgbImage,
  map: Float32Array,
  h: number,
  w: number,
  threshold: number,
  outline: [number, number, number] = [255, 221, 0],
): RgbImage {
  const { width, height } = image;
  const up = resizeImage(map, 1, h, w, height, width);
  const inside = (x: number, y: number) =>
    x >= 0 && y >= 0 && x < width && y < height && up[y * width + x] >= threshold;
  const data = new Uint8Array(image.data.length);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const on = inside(x, y);
      const edge = on && (!inside(x - 1, y) || !inside(x + 1, y) || !inside(x, y - 1) || !inside(x, y + 1));
      for (let k = 0; k < 3; k++)
        data[3 * p + k] = edge
          ? outline[k]
          : on
            ? image.data[3 * p + k]
            : Math.round(0.35 * image.data[3 * p + k]);
    }
  return { width, height, data };
}
