/**
 * Labelled grids (rows = images, columns = methods): the layout, and its labels as one SVG layer,
 * so any platform can draw it (render/node.ts composes it with sharp).
 */
import { type RgbImage, resizeNearest, resizeRgb } from './image.js';

export interface GridCell {
  image: RgbImage;
  caption?: string;
  /** Scale with nearest neighbours (filters, feature maps) instead of bilinearly. */
  pixelated?: boolean;
}

export interface GridRow {
  label?: string;
  cells: (GridCell | undefined)[];
}

export interface GridOptions {
  /** Width of each cell in pixels (default 160). */
  cell?: number;
  /** Height of each cell's image area (default: the width). */
  cellHeight?: number;
  /** Column titles. */
  headers?: string[];
  title?: string;
}

export interface GridLayout {
  width: number;
  height: number;
  /** Each cell's image, resized, with its top-left corner. */
  tiles: { image: RgbImage; left: number; top: number }[];
  /** Every label as SVG text over the whole grid. */
  svg: string;
}

const GAP = 6;
const CAPTION = 16;
const HEADER = 22;
const LABEL_WIDTH = 130;

export function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}

export function gridLayout(rows: GridRow[], options: GridOptions = {}): GridLayout {
  const cell = options.cell ?? 160;
  const cellHeight = options.cellHeight ?? cell;
  const columns = Math.max(options.headers?.length ?? 0, ...rows.map((r) => r.cells.length));
  const labels = rows.some((r) => r.label);
  const left0 = GAP + (labels ? LABEL_WIDTH : 0);
  const titleHeight = options.title ? HEADER : 0;
  const top0 = GAP + titleHeight + (options.headers ? HEADER : 0);
  const rowHeight = cellHeight + CAPTION + GAP;
  const width = Math.max(
    left0 + columns * (cell + GAP),
    options.title ? GAP * 2 + Math.ceil(options.title.length * 0.62 * 15) : 0,
  );
  const height = top0 + rows.length * rowHeight;
  const tiles: GridLayout['tiles'] = [];
  const text: string[] = [];
  const label = (x: number, y: number, s: string, size: number, anchor = 'start', weight = 'normal') =>
    text.push(
      `<text x="${x}" y="${y}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="${size}" font-weight="${weight}" text-anchor="${anchor}" fill="#222">${escapeXml(s)}</text>`,
    );
  if (options.title) label(GAP, GAP + 15, options.title, 15, 'start', 'bold');
  options.headers?.forEach((h, c) => {
    label(
      left0 + c * (cell + GAP) + cell / 2,
      GAP + titleHeight + 15,
      truncateLabel(h, cell, 13),
      13,
      'middle',
      'bold',
    );
  });
  rows.forEach((row, r) => {
    const top = top0 + r * rowHeight;
    if (row.label) label(GAP, top + cellHeight / 2, truncateLabel(row.label, LABEL_WIDTH - GAP, 12), 12);
    row.cells.forEach((c, k) => {
      if (!c) return;
      const left = left0 + k * (cell + GAP);
      const scale = Math.min(cell / c.image.width, cellHeight / c.image.height);
      const resize = c.pixelated ? resizeNearest : resizeRgb;
      const image = resize(c.image, Math.round(c.image.height * scale), Math.round(c.image.width * scale));
      tiles.push({ image, left, top });
      if (c.caption)
        label(left + cell / 2, top + cellHeight + 12, truncateLabel(c.caption, cell, 11), 11, 'middle');
    });
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${text.join('')}</svg>`;
  return { width, height, tiles, svg };
}

/** Shorten a label to fit `width` pixels at `size` (about 0.6·size per character). */
function truncateLabel(s: string, width: number, size: number): string {
  const max = Math.max(4, Math.floor(width / (0.6 * size)));
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
