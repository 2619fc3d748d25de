/** Separable Gaussian blur of a C×H×W image (edges replicate), radius ⌈3σ⌉. */
export function gaussianBlur(
  image: Float32Array,
  c: number,
  h: number,
  w: number,
  sigma: number,
): Float32Array {
  if (!(sigma > 0)) return Float32Array.from(image);
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++)
    sum += kernel[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  const tmp = new Float32Array(image.length);
  const out = new Float32Array(image.length);
  for (let ch = 0; ch < c; ch++) {
    const base = ch * h * w;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let k = -radius; k <= radius; k++) {
          const xx = Math.min(w - 1, Math.max(0, x + k));
          s += kernel[k + radius] * image[base + y * w + xx];
        }
        tmp[base + y * w + x] = s;
      }
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let k = -radius; k <= radius; k++) {
          const yy = Math.min(h - 1, Math.max(0, y + k));
          s += kernel[k + radius] * tmp[base + yy * w + x];
        }
        out[base + y * w + x] = s;
      }
  }
  return out;
}
