/**
 * Charts as Vega specifications (https://vega.github.io/vega/), rendered to SVG by Vega itself, so
 * the same spec draws in Node (rasterised by render/node.ts) and in a browser page.
 */
import type * as vega from 'vega';

export { type ScatterPoint, scatterSpec } from './scatter.js';

/** A row × column heat map with labelled axes and a colour legend. */
export function heatmapSpec(
  matrix: number[][],
  rows: readonly string[],
  columns: readonly string[],
  options: { title?: string; legend?: string; cell?: number } = {},
): vega.Spec {
  const cell = options.cell ?? Math.max(6, Math.min(24, Math.floor(900 / Math.max(1, columns.length))));
  const values = matrix.flatMap((row, r) =>
    row.map((v, c) => ({ row: rows[r], column: columns[c], value: v })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega/v5.json',
    padding: 8,
    width: cell * columns.length,
    height: Math.max(20, cell) * rows.length,
    title: options.title ? { text: options.title, anchor: 'start' } : undefined,
    data: [{ name: 'cells', values }],
    scales: [
      { name: 'x', type: 'band', domain: [...columns], range: 'width' },
      { name: 'y', type: 'band', domain: [...rows], range: 'height' },
      {
        name: 'colour',
        type: 'linear',
        domain: { data: 'cells', field: 'value' },
        range: { scheme: 'viridis' },
      },
    ],
    axes: [
      {
        orient: 'bottom',
        scale: 'x',
        labelAngle: -90,
        labelAlign: 'right',
        labelBaseline: 'middle',
        labelFontSize: 8,
        title: 'channel',
      },
      { orient: 'left', scale: 'y', title: 'class' },
    ],
    legends: [
      {
        fill: 'colour',
        title: options.legend ?? 'value',
        type: 'gradient',
        gradientLength: Math.min(200, Math.max(40, Math.max(20, cell) * rows.length - 20)),
      },
    ],
    marks: [
      {
        type: 'rect',
        from: { data: 'cells' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'column' },
            width: { scale: 'x', band: 1 },
            y: { scale: 'y', field: 'row' },
            height: { scale: 'y', band: 1 },
            fill: { scale: 'colour', field: 'value' },
            tooltip: { signal: "datum.row + ' · ' + datum.column + ': ' + format(datum.value, '.3g')" },
          },
        },
      },
    ],
  };
}

/** Render a Vega spec to an SVG string (no browser needed). */
export async function chartSvg(spec: vega.Spec): Promise<string> {
  // Vega takes a third of a second to load: only commands that draw a chart pay for it.
  const { parse, View } = await import('vega');
  const view = new View(parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
