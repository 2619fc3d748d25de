/** A 2-D scatter as a Vega spec; its own module so a page can build the spec without loading Vega. */
import type { Spec } from 'vega';

export interface ScatterPoint {
  x: number;
  y: number;
  label: string;
  /** The point's position in the page's thumbnail list (shown on hover in the HTML explorer). */
  index?: number;
  name?: string;
  /** Drawn larger and outlined (e.g. a point and its nearest neighbours). */
  near?: boolean;
}

/** A 2-D scatter coloured by label with a legend; points carry tooltips (name, label, image). */
export function scatterSpec(
  points: ScatterPoint[],
  options: { title?: string; size?: number; width?: number; height?: number } = {},
): Spec {
  const size = options.size ?? 520;
  const dot = points.length > 3000 ? 8 : 18;
  return {
    $schema: 'https://vega.github.io/schema/vega/v5.json',
    padding: 8,
    width: options.width ?? size,
    height: options.height ?? size,
    title: options.title ? { text: options.title, anchor: 'start' } : undefined,
    data: [{ name: 'points', values: points }],
    scales: [
      {
        name: 'x',
        type: 'linear',
        domain: { data: 'points', field: 'x' },
        range: 'width',
        nice: true,
        zero: false,
      },
      {
        name: 'y',
        type: 'linear',
        domain: { data: 'points', field: 'y' },
        range: 'height',
        nice: true,
        zero: false,
      },
      {
        name: 'colour',
        type: 'ordinal',
        domain: { data: 'points', field: 'label', sort: true },
        range: { scheme: 'tableau10' },
      },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', grid: false },
      { orient: 'left', scale: 'y', grid: false },
    ],
    legends: [{ fill: 'colour', title: 'class', symbolType: 'circle' }],
    marks: [
      {
        name: 'dots',
        type: 'symbol',
        from: { data: 'points' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'x' },
            y: { scale: 'y', field: 'y' },
            fill: { scale: 'colour', field: 'label' },
            size: { signal: `datum.near ? ${dot * 4} : ${dot}` },
            stroke: { signal: "datum.near ? '#000' : null" },
            opacity: { value: 0.8 },
            tooltip: { signal: '{title: datum.name, class: datum.label, index: datum.index}' },
          },
        },
      },
    ],
  };
}
