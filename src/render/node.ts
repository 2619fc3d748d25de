/** Node edge of rendering: PNG encoding and grid composition through sharp. */
import { renameSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { deferSignals } from '../node.js';
import { chartSvg } from './charts.js';
import { type GridOptions, type GridRow, gridLayout } from './grid.js';
import type { RgbImage } from './image.js';

export function encodePng(img: RgbImage): Promise<Buffer> {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .png()
    .toBuffer();
}

/** JPEG (quality 88, 4:4:4 chroma so thin coloured lines survive), for reports where size matters. */
export function encodeJpeg(img: RgbImage): Promise<Buffer> {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .jpeg({ quality: 88, chromaSubsampling: '4:4:4' })
    .toBuffer();
}

/** Write bytes atomically (a temporary file renamed into place). */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  deferSignals(() => {
    writeFileSync(`${path}.tmp`, bytes);
    renameSync(`${path}.tmp`, path);
  });
}

/** A labelled grid as PNG bytes. */
export async function gridPng(rows: GridRow[], options: GridOptions = {}): Promise<Buffer> {
  const layout = gridLayout(rows, options);
  const composites = [
    ...layout.tiles.map((t) => ({
      input: Buffer.from(t.image.data.buffer, t.image.data.byteOffset, t.image.data.byteLength),
      raw: { width: t.image.width, height: t.image.height, channels: 3 as const },
      left: t.left,
      top: t.top,
    })),
    { input: Buffer.from(layout.svg), left: 0, top: 0 },
  ];
  return sharp({ create: { width: layout.width, height: layout.height, channels: 3, background: '#ffffff' } })
    .composite(composites)
    .png()
    .toBuffer();
}

/** A Vega chart as PNG bytes (Vega draws SVG; sharp rasterises it at `density` dpi). */
export async function chartPng(spec: import('vega').Spec, density = 144): Promise<Buffer> {
  return svgPng(await chartSvg(spec), density);
}

/** An SVG drawing as PNG bytes on white, rasterised at `density` dpi. */
export function svgPng(svg: string, density = 144): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density }).flatten({ background: '#ffffff' }).png().toBuffer();
}
