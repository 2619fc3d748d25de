/** Saving what the page shows: a map's overlay as PNG, its raw values as .npy. */
import { encodeNpy } from '../../data/npy.js';
import type { RenderedMap } from './protocol.js';

function save(blob: Blob, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

export async function saveOverlayPng(map: RenderedMap): Promise<void> {
  const { width, height, rgba } = map.overlay;
  const canvas = new OffscreenCanvas(width, height);
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
  save(await canvas.convertToBlob({ type: 'image/png' }), `${map.method}.png`);
}

export function saveMapNpy(map: RenderedMap): void {
  save(
    new Blob([encodeNpy(map.data, map.dims) as BlobPart], { type: 'application/octet-stream' }),
    `${map.method}.npy`,
  );
}
