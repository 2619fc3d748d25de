/** What the explorer draws with: images at the model's size, canvases, map values, layer tiles. */
import { useEffect, useRef } from 'preact/hooks';
import type { Filter, ModelInfo, RenderedMap } from './protocol.js';

/** An image file drawn at the model's size: planar RGB (or grey) in [0, 1], and RGBA for display. */
export async function pixelsOf(file: Blob, info: ModelInfo) {
  const [h, w] = info.preprocessing.size;
  const bitmap = await createImageBitmap(file);
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(bitmap, 0, 0, w, h);
  const rgba = ctx.getImageData(0, 0, w, h).data;
  const c = info.preprocessing.channels;
  const area = w * h;
  const pixels = new Float32Array(c * area);
  for (let i = 0; i < area; i++) {
    const [r, g, b] = [rgba[i * 4], rgba[i * 4 + 1], rgba[i * 4 + 2]];
    if (c === 1) pixels[i] = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    else for (const [k, v] of [r, g, b].entries()) pixels[k * area + i] = v / 255;
  }
  return { pixels, display: { width: w, height: h, rgba: new Uint8ClampedArray(rgba) } };
}

export function Picture(props: {
  img: { width: number; height: number; rgba: Uint8ClampedArray };
  size?: number;
  label?: string;
  onHover?: (x: number, y: number) => void;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current!;
    c.width = props.img.width;
    c.height = props.img.height;
    c.getContext('2d')!.putImageData(
      new ImageData(new Uint8ClampedArray(props.img.rgba), props.img.width, props.img.height),
      0,
      0,
    );
  }, [props.img]);
  const size = props.size ?? 160;
  return (
    <canvas
      ref={ref}
      aria-label={props.label}
      style={{
        width: `${size}px`,
        height: `${(size * props.img.height) / props.img.width}px`,
        imageRendering: 'pixelated',
      }}
      onMouseMove={(e) => {
        const r = (e.target as HTMLCanvasElement).getBoundingClientRect();
        props.onHover?.(
          Math.floor(((e.clientX - r.left) / r.width) * props.img.width),
          Math.floor(((e.clientY - r.top) / r.height) * props.img.height),
        );
      }}
    />
  );
}

/** A map's value at input pixel (x, y) (maps at layer resolution are read at the covering cell). */
export function valueAt(map: RenderedMap, x: number, y: number, size: number[]): number {
  const [, c, h, w] = map.dims;
  const [yy, xx] = [
    Math.min(h - 1, Math.floor((y * h) / size[0])),
    Math.min(w - 1, Math.floor((x * w) / size[1])),
  ];
  let best = 0;
  for (let k = 0; k < c; k++) {
    const v = map.data[k * h * w + yy * w + xx];
    if (Math.abs(v) > Math.abs(best)) best = v;
  }
  return best;
}

/** Layers with a spatial map ([1, C, H, W], H·W > 1), inputs aside. */
export const spatialLayers = (m: ModelInfo) =>
  m.layers.filter((l) => l.shape.length === 4 && l.shape[2] * l.shape[3] > 1 && l.opType !== 'Input');

/** A feature map channel as a grey image scaled to the layer's range. */
export function channelImage(data: Float32Array, k: number, h: number, w: number, lo: number, hi: number) {
  const rgba = new Uint8ClampedArray(h * w * 4);
  for (let i = 0; i < h * w; i++) {
    const v = Math.round((255 * (data[k * h * w + i] - lo)) / (hi - lo || 1));
    rgba.set([v, v, v, 255], i * 4);
  }
  return { width: w, height: h, rgba };
}

/**
 * A filter's weights [in, kh, kw] as pictures: one colour image when it reads RGB, else one tile
 * per input channel (at most `limit`), red positive and blue negative; all scaled by max |w|.
 */
export function filterImages(filter: Filter, limit = 32) {
  const [cin, kh, kw] = filter.dims;
  const area = kh * kw;
  let scale = 0;
  for (const v of filter.data) scale = Math.max(scale, Math.abs(v));
  scale ||= 1;
  if (cin === 3) {
    const rgba = new Uint8ClampedArray(area * 4);
    for (let i = 0; i < area; i++) {
      for (let c = 0; c < 3; c++)
        rgba[i * 4 + c] = Math.round(255 * (0.5 + filter.data[c * area + i] / (2 * scale)));
      rgba[i * 4 + 3] = 255;
    }
    return [{ width: kw, height: kh, rgba }];
  }
  return Array.from({ length: Math.min(cin, limit) }, (_, k) => {
    const rgba = new Uint8ClampedArray(area * 4);
    for (let i = 0; i < area; i++) {
      const v = filter.data[k * area + i] / scale;
      const fade = Math.round(255 * (1 - Math.abs(v)));
      rgba.set(v >= 0 ? [255, fade, fade, 255] : [fade, fade, 255, 255], i * 4);
    }
    return { width: kw, height: kh, rgba };
  });
}
