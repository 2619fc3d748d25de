/** Bilinear sampling of channel `c` of a C×H×W image at (x, y), clamped to the image (edges replicate). */
export function sampleBilinear(
  image: Float32Array,
  c: number,
  h: number,
  w: number,
  x: number,
  y: number,
): number {
  const sx = Math.min(w - 1, Math.max(0, x));
  const sy = Math.min(h - 1, Math.max(0, y));
  const x0 = Math.floor(sx);
  const y0 = Math.floor(sy);
  const x1 = Math.min(w - 1, x0 + 1);
  const y1 = Math.min(h - 1, y0 + 1);
  const tx = sx - x0;
  const ty = sy - y0;
  const b = c * h * w;
  const top = image[b + y0 * w + x0] * (1 - tx) + image[b + y0 * w + x1] * tx;
  const bottom = image[b + y1 * w + x0] * (1 - tx) + image[b + y1 * w + x1] * tx;
  return top * (1 - ty) + bottom * ty;
}
