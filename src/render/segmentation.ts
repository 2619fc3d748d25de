/**
 * Segmentations as pictures: one colour per class (background dark grey), and grids of generated
 * images with their segmentations beneath.
 */
import type { GridRow } from './grid.js';
import { type RgbImage, rgbFromPlanar } from './image.js';

/** Class colours: background grey, then distinct hues (Tableau 10). */
export const CLASS_COLOURS: [number, number, number][] = [
  [64, 64, 64],
  [78, 121, 167],
  [242, 142, 43],
  [225, 87, 89],
  [118, 183, 178],
  [89, 161, 79],
  [237, 201, 72],
  [176, 122, 161],
  [255, 157, 167],
  [156, 117, 95],
];

/** A class map [H·W] as an RGB image. */
export function classImage(classes: Uint8Array, height: number, width: number): RgbImage {
  const data = new Uint8Array(height * width * 3);
  for (let p = 0; p < height * width; p++) data.set(CLASS_COLOURS[classes[p] % CLASS_COLOURS.length], p * 3);
  return { width, height, data };
}

/**
 * Rows of up to `perRow` images [n, 3, H, W] in [0, 1], each followed by a row of their class
 * maps [n · H · W] when given.
 */
export function segmentationRows(
  image: [number, number, number],
  images: Float32Array,
  n: number,
  classes?: Uint8Array,
  perRow = 8,
): GridRow[] {
  const [c, h, w] = image;
  const per = c * h * w;
  const rows: GridRow[] = [];
  for (let start = 0; start < n; start += perRow) {
    const ids = Array.from({ length: Math.min(perRow, n - start) }, (_, i) => start + i);
    rows.push({
      label: `${start}–${ids[ids.length - 1]}`,
      cells: ids.map((i) => ({
        image: rgbFromPlanar(images.subarray(i * per, (i + 1) * per), c, h, w),
        pixelated: true,
      })),
    });
    if (classes)
      rows.push({
        label: 'segmented',
        cells: ids.map((i) => ({
          image: classImage(classes.subarray(i * h * w, (i + 1) * h * w), h, w),
          pixelated: true,
        })),
      });
  }
  return rows;
}

/** A row of colour swatches captioned with the class names, the key to `classImage`. */
export function legendRow(classes: readonly string[]): GridRow {
  return {
    label: 'classes',
    cells: classes.map((name, k) => {
      const data = new Uint8Array(4 * 4 * 3);
      for (let p = 0; p < 16; p++) data.set(CLASS_COLOURS[k % CLASS_COLOURS.length], p * 3);
      return { image: { width: 4, height: 4, data }, caption: name, pixelated: true };
    }),
  };
}
