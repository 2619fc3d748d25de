/** What the explorer's server reads from disk for the page: dataset samples and a scan index's top patches. */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { readIndex, scannedData } from '../cli/scan.js';
import { BUILTIN_DATASETS, imageFolderSource, loadDatasetSplits } from '../data/node.js';
import { fieldRegion } from '../methods/inspect/receptiveField.js';
import { scannedCount } from '../methods/inspect/scan.js';
import { rgbFromPlanar } from '../render/image.js';
import { cropRegion } from '../render/inspect.js';
import { encodePng } from '../render/node.js';

/** Refuse a data spec that is neither a built-in dataset nor an existing folder. */
export function checkDataSpec(spec: string): void {
  if (!(BUILTIN_DATASETS as readonly string[]).includes(spec) && !existsSync(spec))
    throw new Error(
      `data "${spec}" is neither a built-in dataset (${BUILTIN_DATASETS.join(', ')}) nor an existing folder`,
    );
}

/** A dataset's test images as PNG by index (built-ins drawn at their native size; folders' files as they are). */
export async function sampleSource(spec: string) {
  if ((BUILTIN_DATASETS as readonly string[]).includes(spec)) {
    const size = spec === 'mnist' ? 28 : 64;
    const split = (await loadDatasetSplits(spec, { size: [size, size], channels: 3, resize: 'exact' })).test;
    return {
      name: spec,
      length: split.length,
      classes: [...split.classes],
      label: async (i: number) => (await split.get(i)).label,
      png: async (i: number) => {
        const { image } = await split.get(i);
        return encodePng(rgbFromPlanar(image, image.length / (size * size), size, size));
      },
    };
  }
  checkDataSpec(spec);
  const source = imageFolderSource(spec, { size: [1, 1], channels: 3, resize: 'exact' });
  return {
    name: basename(spec),
    length: source.files.length,
    classes: [...source.classes],
    label: async (i: number) => source.classes.indexOf(source.files[i].split(/[\\/]/)[0]),
    png: async (i: number) => sharp(join(spec, source.files[i])).png().toBuffer(),
  };
}

/** What the page learns of a scan index: its model (by content hash), layers with channel counts, hits kept. */
export interface IndexSummary {
  file: string;
  model: { name: string; sha256: string };
  data: string;
  scanned: number;
  top: number;
  layers: { name: string; channels: number; field: [number, number] | null }[];
}

/**
 * A scan index's top hits as receptive-field crops of their dataset images, by layer position in
 * the summary, channel and rank. The data must be the one scanned (same fingerprint).
 */
export async function indexPatches(file: string) {
  const index = readIndex(file);
  const data = await scannedData(index, file);
  const names = Object.keys(index.layers);
  const summary: IndexSummary = {
    file: basename(file),
    model: { name: index.model.name, sha256: index.model.sha256 },
    data: index.data.spec,
    scanned: scannedCount(index),
    top: index.top,
    layers: names.map((name) => ({
      name,
      channels: index.layers[name].channels,
      field: index.layers[name].field?.size ?? null,
    })),
  };
  const [c0, h, w] = index.model.input;
  return {
    summary,
    png: async (layer: number, channel: number, rank: number) => {
      const l = index.layers[names[layer]];
      const hit = l?.field ? l.top[channel]?.[rank] : undefined;
      if (!hit || !l.field) return undefined;
      const sample = await data.source.load(hit.image);
      return encodePng(cropRegion(sample.image, c0, h, w, fieldRegion(l.field, hit.y, hit.x)));
    },
  };
}
