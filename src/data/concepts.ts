/**
 * Concept data for network dissection: images with a binary pixel mask per concept, concepts
 * grouped in categories (object, part, colour, …), as in Broden (Bau et al. 2017, §2.1). Masks are
 * at the image's resolution; a sample lists only the concepts present in it.
 *
 * `shapesConcepts` derives them from the shapes generator: every object's class (and the
 * background), geometric parts of each shape, and a named colour for every pixel of the image
 * before noise.
 */
import type { Sample } from './dataset.js';
import {
  CROSS_ARM,
  RING_HOLE_RADIUS,
  renderShapes,
  SHAPE_CLASSES,
  type ShapeObject,
  STAR_INNER_RADIUS,
  shapeDistance,
  shapePolygon,
  unitFrame,
} from './shapes.js';

export interface Concept {
  name: string;
  category: string;
}

/** The concepts a dataset labels, each with its category; a concept's index is its id. */
export interface ConceptVocabulary {
  categories: readonly string[];
  concepts: readonly Concept[];
}

/** One concept's pixels in one image (H×W, 1 = the concept is there). */
export interface ConceptMask {
  concept: number;
  mask: Uint8Array;
}

export interface ConceptSample extends Sample {
  /** The concepts present in the image (each at most once), with their masks. */
  concepts: ConceptMask[];
}

/** A concept dataset: images (C×H×W in [0, 1]) with masks at H×W, loaded on demand. */
export interface ConceptSource {
  readonly name: string;
  readonly classes: readonly string[];
  readonly vocabulary: ConceptVocabulary;
  readonly length: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  load(index: number): ConceptSample | Promise<ConceptSample>;
}

/** The object category: the six shape classes and the background. */
const OBJECTS = [...SHAPE_CLASSES, 'background'];
/** Parts defined geometrically in each shape's unit frame (see `partMasks`). */
export const SHAPE_PARTS = ['star tip', 'cross arm', 'ring hole', 'corner', 'outline'] as const;
/** Named colours (Berlin & Kay's eleven basic terms and cyan), by hue, saturation and value. */
export const COLOUR_NAMES = [
  'black',
  'white',
  'grey',
  'red',
  'orange',
  'brown',
  'yellow',
  'green',
  'cyan',
  'blue',
  'purple',
  'pink',
] as const;

/** The vocabulary of `shapesConcepts`: object, part and colour concepts in that order. */
export const SHAPES_VOCABULARY: ConceptVocabulary = {
  categories: ['object', 'part', 'colour'],
  concepts: [
    ...OBJECTS.map((name) => ({ name, category: 'object' })),
    ...SHAPE_PARTS.map((name) => ({ name, category: 'part' })),
    ...COLOUR_NAMES.map((name) => ({ name, category: 'colour' })),
  ],
};

const IDS = new Map(SHAPES_VOCABULARY.concepts.map((c, i) => [c.name, i]));
const conceptId = (name: string) => IDS.get(name)!;
const COLOUR_IDS = COLOUR_NAMES.map(conceptId);

/**
 * The colour name of an RGB value in [0, 1]: black below value 0.2; white, grey below saturation
 * 0.2; otherwise by hue (red < 15°, orange < 45° (brown when value < 0.6), yellow < 70°, green
 * < 165°, cyan < 200°, blue < 260°, purple < 300°, pink < 345° (purple when value < 0.5), red).
 */
export function colourName(r: number, g: number, b: number): (typeof COLOUR_NAMES)[number] {
  return COLOUR_NAMES[colourIndex(r, g, b)];
}

const colour = (name: (typeof COLOUR_NAMES)[number]) => COLOUR_NAMES.indexOf(name);
const [BLACK, WHITE, GREY, RED, ORANGE, BROWN, YELLOW, GREEN, CYAN, BLUE, PURPLE, PINK] =
  COLOUR_NAMES.map(colour);

/** `colourName` as an index into COLOUR_NAMES. */
function colourIndex(r: number, g: number, b: number): number {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  if (max < 0.2) return BLACK;
  const s = (max - min) / max;
  if (s < 0.2) return max > 0.8 ? WHITE : GREY;
  const d = max - min;
  let h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  h = (h * 60 + 360) % 360;
  if (h < 15 || h >= 345) return RED;
  if (h < 45) return max < 0.6 ? BROWN : ORANGE;
  if (h < 70) return YELLOW;
  if (h < 165) return GREEN;
  if (h < 200) return CYAN;
  if (h < 260) return BLUE;
  if (h < 300) return PURPLE;
  return max < 0.5 ? PURPLE : PINK;
}

/** Distance in the unit frame within which a square's or triangle's pixel is a corner. */
export const CORNER_RADIUS = 0.35;
/** Width in pixels of the outline band, inside each object's boundary. */
export const OUTLINE_WIDTH = 1.5;

/**
 * The part each pixel centre of an object belongs to, per part name (a pixel may be in two: an
 * outline pixel at a star's tip). Star tips: star pixels beyond 1.3 × the inner radius; cross
 * arms: cross pixels outside the central square; ring hole: the disc inside a ring (background
 * pixels); corners: square and triangle pixels within `CORNER_RADIUS` of a vertex; outline: pixels
 * within `OUTLINE_WIDTH` of the boundary, inside.
 */
export function partMasks(o: ShapeObject, size: number): Map<(typeof SHAPE_PARTS)[number], Uint8Array> {
  const shape = SHAPE_CLASSES[o.classIndex];
  const out = new Map<(typeof SHAPE_PARTS)[number], Uint8Array>();
  const mark = (part: (typeof SHAPE_PARTS)[number], p: number) => {
    if (!out.has(part)) out.set(part, new Uint8Array(size * size));
    out.get(part)![p] = 1;
  };
  const vertices = shape === 'square' || shape === 'triangle' ? shapePolygon(shape)! : [];
  const lo = Math.max(0, Math.floor(o.cx - o.radius - 2));
  const hi = Math.min(size, Math.ceil(o.cx + o.radius + 2));
  const top = Math.max(0, Math.floor(o.cy - o.radius - 2));
  const bottom = Math.min(size, Math.ceil(o.cy + o.radius + 2));
  for (let y = top; y < bottom; y++)
    for (let x = lo; x < hi; x++) {
      const p = y * size + x;
      const [u, v] = unitFrame(o, x + 0.5, y + 0.5);
      const r = Math.hypot(u, v);
      if (shape === 'ring' && r < RING_HOLE_RADIUS) mark('ring hole', p);
      if (!o.mask[p]) continue;
      const d = shapeDistance(shape, u, v) * o.radius;
      if (d > -OUTLINE_WIDTH) mark('outline', p);
      if (shape === 'star' && r > 1.3 * STAR_INNER_RADIUS) mark('star tip', p);
      if (shape === 'cross' && Math.max(Math.abs(u), Math.abs(v)) > CROSS_ARM) mark('cross arm', p);
      if (vertices.some(([vx, vy]) => Math.hypot(u - vx, v - vy) < CORNER_RADIUS)) mark('corner', p);
    }
  return out;
}

/** Concept masks of a drawn shapes image from its objects and its image before noise. */
export function shapeConcepts(
  objects: readonly ShapeObject[],
  clean: Float32Array,
  size: number,
): ConceptMask[] {
  const area = size * size;
  const masks: (Uint8Array | undefined)[] = [];
  const mark = (concept: number, p: number) => {
    masks[concept] ??= new Uint8Array(area);
    masks[concept][p] = 1;
  };
  const background = new Uint8Array(area).fill(1);
  for (const o of objects) {
    const id = conceptId(SHAPE_CLASSES[o.classIndex]);
    for (let p = 0; p < area; p++)
      if (o.mask[p]) {
        mark(id, p);
        background[p] = 0;
      }
    for (const [part, m] of partMasks(o, size)) {
      const pid = conceptId(part);
      for (let p = 0; p < area; p++) if (m[p]) mark(pid, p);
    }
  }
  const bg = conceptId('background');
  for (let p = 0; p < area; p++) if (background[p]) mark(bg, p);
  for (let p = 0; p < area; p++)
    mark(COLOUR_IDS[colourIndex(clean[p], clean[area + p], clean[2 * area + p])], p);
  return masks.flatMap((mask, concept) => (mask ? [{ concept, mask }] : []));
}

/**
 * The `shapes-concepts` dataset: the shapes images of `seed` with object, part and colour masks.
 * Sample i depends only on (seed, i); the images are those of `shapesDataset` with the same seed.
 *
 * @example
 * ```ts
 * const data = shapesConcepts({ length: 100, seed: 2 });
 * const { image, concepts } = await data.load(0);
 * console.log(concepts.map((c) => data.vocabulary.concepts[c.concept].name)); // ['star', …, 'blue']
 * ```
 */
export function shapesConcepts(options: {
  length: number;
  seed?: number;
  size?: number;
  noise?: number;
}): ConceptSource {
  const size = options.size ?? 64;
  const seed = options.seed ?? 0;
  const noise = options.noise ?? 0.03;
  if (!Number.isInteger(size) || size < 16)
    throw new Error(`shapes-concepts: size must be an integer ≥ 16, got ${size}`);
  if (!Number.isInteger(options.length) || options.length < 0)
    throw new Error(`shapes-concepts: length must be a non-negative integer, got ${options.length}`);
  return {
    name: `shapes-concepts(seed=${seed})`,
    classes: SHAPE_CLASSES,
    vocabulary: SHAPES_VOCABULARY,
    length: options.length,
    channels: 3,
    height: size,
    width: size,
    load: (i) => {
      if (!Number.isInteger(i) || i < 0 || i >= options.length)
        throw new RangeError(`shapes-concepts: index ${i} outside 0..${options.length - 1}`);
      const { clean, ...sample } = renderShapes(seed, i, size, noise);
      return { ...sample, concepts: shapeConcepts(sample.objects, clean, size) };
    },
  };
}

/** Check a sample's masks against its source: known concepts, each once, masks of H×W. */
export function checkConceptSample(source: ConceptSource, index: number, sample: ConceptSample): void {
  const area = source.height * source.width;
  const seen = new Set<number>();
  for (const { concept, mask } of sample.concepts) {
    if (!Number.isInteger(concept) || concept < 0 || concept >= source.vocabulary.concepts.length)
      throw new Error(`${source.name}: image ${index} has a mask for unknown concept ${concept}`);
    if (seen.has(concept))
      throw new Error(
        `${source.name}: image ${index} has two masks for "${source.vocabulary.concepts[concept].name}"`,
      );
    seen.add(concept);
    if (mask.length !== area)
      throw new Error(
        `${source.name}: image ${index}'s mask for "${source.vocabulary.concepts[concept].name}" has ${mask.length} pixels, expected ${source.height}×${source.width} = ${area}`,
      );
  }
}
