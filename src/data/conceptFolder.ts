/**
 * Concept data from a folder (Node edge, decoded with sharp):
 *
 *   DIR/concepts.json             {"concepts": [{"name": "sky", "category": "scene", "label": 1}, …]}
 *   DIR/images/NAME.png           the images (any format sharp reads)
 *   DIR/labels/CATEGORY/NAME.png  optional: one label image per image and category; a pixel's
 *                                 value (first channel) is the `label` of a concept of that
 *                                 category, 0 none
 *   DIR/masks/CONCEPT/NAME.png    optional: one mask per image and concept, non-zero inside
 *
 * A missing label image or mask means the concept is absent from that image. Masks must have their
 * image's size; they are resized to the model input with nearest neighbours and the images' fit.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import sharp from 'sharp';
import type { Concept, ConceptMask, ConceptSource, ConceptVocabulary } from './concepts.js';
import { decodeImage, IMAGE_EXTENSIONS } from './node.js';
import type { Preprocessing } from './preprocess.js';

interface FolderConcept extends Concept {
  label?: number;
}

/** Read and check DIR/concepts.json. */
export function readConceptsFile(dir: string): { vocabulary: ConceptVocabulary; concepts: FolderConcept[] } {
  const file = join(dir, 'concepts.json');
  if (!existsSync(file)) throw new Error(`concept folder "${dir}" has no concepts.json naming its concepts`);
  let parsed: { concepts?: unknown };
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`"${file}" is not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(parsed.concepts) || parsed.concepts.length === 0)
    throw new Error(
      `"${file}" must hold {"concepts": [{"name", "category", "label"?}, …]} with at least one concept`,
    );
  const concepts = parsed.concepts.map((c: Partial<FolderConcept>, i: number): FolderConcept => {
    if (typeof c?.name !== 'string' || !c.name || typeof c.category !== 'string' || !c.category)
      throw new Error(`"${file}": concept ${i} needs a non-empty "name" and "category"`);
    if (c.label !== undefined && !(Number.isInteger(c.label) && c.label >= 1 && c.label <= 255))
      throw new Error(
        `"${file}": concept "${c.name}" has label ${c.label}; labels are integers 1–255 (0 is none)`,
      );
    return { name: c.name, category: c.category, label: c.label };
  });
  const names = new Set<string>();
  for (const c of concepts) {
    if (names.has(c.name)) throw new Error(`"${file}" names concept "${c.name}" twice`);
    names.add(c.name);
  }
  const labels = new Set<string>();
  for (const c of concepts)
    if (c.label !== undefined) {
      const key = `${c.category}/${c.label}`;
      if (labels.has(key))
        throw new Error(`"${file}": label ${c.label} names two concepts of category "${c.category}"`);
      labels.add(key);
    }
  const categories = [...new Set(concepts.map((c) => c.category))];
  return {
    vocabulary: { categories, concepts: concepts.map(({ name, category }) => ({ name, category })) },
    concepts,
  };
}

const listDirs = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    : [];

/** The first channel of an image at the model size (nearest neighbours), after checking its native size. */
async function decodeLabels(
  path: string,
  expected: [number, number],
  p: Pick<Preprocessing, 'size' | 'resize'>,
) {
  const img = sharp(path);
  let meta: Awaited<ReturnType<typeof img.metadata>>;
  try {
    meta = await img.metadata();
  } catch (e) {
    throw new Error(`mask "${path}" could not be read: ${(e as Error).message}`);
  }
  if (meta.width !== expected[1] || meta.height !== expected[0])
    throw new Error(
      `mask "${path}" is ${meta.width}×${meta.height} but its image is ${expected[1]}×${expected[0]}; masks must match their image`,
    );
  const [height, width] = p.size;
  const { data, info } = await img
    .resize(width, height, { fit: p.resize === 'exact' ? 'fill' : 'cover', kernel: 'nearest' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = data[i * info.channels];
  return out;
}

/**
 * A concept folder as a source: each image and its masks are decoded when asked.
 *
 * @example
 * ```ts
 * const source = conceptFolderSource('my-concepts/', card.preprocessing);
 * console.log(source.vocabulary.categories, source.length);
 * ```
 */
export function conceptFolderSource(
  dir: string,
  p: Pick<Preprocessing, 'size' | 'channels' | 'resize'>,
): ConceptSource & { files: string[] } {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new Error(`concept folder "${dir}" does not exist`);
  const { vocabulary, concepts } = readConceptsFile(dir);
  const imagesDir = join(dir, 'images');
  if (!existsSync(imagesDir)) throw new Error(`concept folder "${dir}" has no images/ folder`);
  const files = readdirSync(imagesDir)
    .filter((f) => !f.startsWith('.') && IMAGE_EXTENSIONS.includes(extname(f).toLowerCase()))
    .sort();
  if (files.length === 0)
    throw new Error(`concept folder "${dir}" holds no images in images/ (the dataset is empty)`);
  const stems = new Set(files.map((f) => basename(f, extname(f))));
  const byName = new Map(concepts.map((c, i) => [c.name, i]));
  const labelDirs = listDirs(join(dir, 'labels')).map((e) => e.name);
  for (const category of labelDirs)
    if (!vocabulary.categories.includes(category))
      throw new Error(
        `labels/${category}/ names a category concepts.json does not have (it has ${vocabulary.categories.join(', ')})`,
      );
  const maskDirs = listDirs(join(dir, 'masks')).map((e) => e.name);
  for (const name of maskDirs)
    if (!byName.has(name)) throw new Error(`masks/${name}/ names a concept concepts.json does not have`);
  const findFile = (folder: string, stem: string) => {
    for (const ext of IMAGE_EXTENSIONS) {
      const f = join(folder, stem + ext);
      if (existsSync(f)) return f;
    }
    return undefined;
  };
  for (const folder of [
    ...labelDirs.map((c) => join(dir, 'labels', c)),
    ...maskDirs.map((c) => join(dir, 'masks', c)),
  ])
    for (const f of readdirSync(folder))
      if (!f.startsWith('.') && !stems.has(basename(f, extname(f))))
        throw new Error(`mask "${join(folder, f)}" has no image of the same name in images/`);
  const area = p.size[0] * p.size[1];
  // Per category, label value → concept id.
  const labelIds = new Map(
    labelDirs.map((category) => [
      category,
      new Map(
        concepts.flatMap((c, k) =>
          c.category === category && c.label !== undefined ? [[c.label, k] as const] : [],
        ),
      ),
    ]),
  );
  return {
    name: basename(dir),
    classes: [],
    vocabulary,
    length: files.length,
    channels: p.channels,
    height: p.size[0],
    width: p.size[1],
    files,
    load: async (i) => {
      const file = join(imagesDir, files[i]);
      const stem = basename(files[i], extname(files[i]));
      const meta = await sharp(file).metadata();
      const native: [number, number] = [meta.height ?? 0, meta.width ?? 0];
      const masks = new Map<number, Uint8Array>();
      const maskOf = (concept: number) => {
        if (!masks.has(concept)) masks.set(concept, new Uint8Array(area));
        return masks.get(concept)!;
      };
      for (const category of labelDirs) {
        const f = findFile(join(dir, 'labels', category), stem);
        if (!f) continue;
        const labels = await decodeLabels(f, native, p);
        const ids = labelIds.get(category)!;
        for (let q = 0; q < area; q++) {
          if (labels[q] === 0) continue;
          const k = ids.get(labels[q]);
          if (k === undefined)
            throw new Error(
              `label image "${f}" has label ${labels[q]}, which concepts.json does not name for category "${category}"`,
            );
          maskOf(k)[q] = 1;
        }
      }
      for (const name of maskDirs) {
        const f = findFile(join(dir, 'masks', name), stem);
        if (!f) continue;
        const m = await decodeLabels(f, native, p);
        const target = maskOf(byName.get(name)!);
        for (let q = 0; q < area; q++) if (m[q]) target[q] = 1;
      }
      const list: ConceptMask[] = [...masks.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([concept, mask]) => ({ concept, mask }));
      return { image: await decodeImage(file, p), label: -1, concepts: list };
    },
  };
}
