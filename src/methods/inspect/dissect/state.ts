/**
 * A dissection state as JSON (format "convlens-dissect-state", version 1): the counts' typed
 * arrays as plain arrays, each unit's overlaps as [index, count] pairs of its non-zero entries.
 */
import { DISSECT_FORMAT, DISSECT_VERSION, type DissectionState } from './dissect.js';
import type { UnitCounts } from './tally.js';

type UnitJson = Omit<UnitCounts, 'values' | 'pixels' | 'overlaps'> & {
  values: number[];
  pixels: number[];
  /** Flattened [index, count] pairs. */
  overlaps: number[];
};

export function serializeState(state: DissectionState): string {
  const counts = state.counts;
  const unit = (u: UnitCounts): UnitJson => {
    const overlaps: number[] = [];
    for (let i = 0; i < u.overlaps.length; i++) if (u.overlaps[i] !== 0) overlaps.push(i, u.overlaps[i]);
    return { ...u, values: [...u.values], pixels: [...u.pixels], overlaps };
  };
  return `${JSON.stringify({
    ...state,
    counts: {
      ...counts,
      conceptPixels: [...counts.conceptPixels],
      conceptImages: [...counts.conceptImages],
      layers: Object.fromEntries(
        Object.entries(counts.layers).map(([name, l]) => [name, { ...l, units: l.units.map(unit) }]),
      ),
    },
  })}\n`;
}

/** Parse and check a state; errors name the file and the first problem. */
export function parseState(text: string, source: string): DissectionState {
  const fail = (why: string): never => {
    throw new Error(`"${source}" is not a convlens dissection state: ${why}`);
  };
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (typeof v !== 'object' || v === null) fail('not a JSON object');
  if (v.format !== DISSECT_FORMAT)
    fail(`format is ${JSON.stringify(v.format)}, expected "${DISSECT_FORMAT}"`);
  if (v.version !== DISSECT_VERSION)
    fail(`version ${v.version} is not supported (this convlens reads ${DISSECT_VERSION})`);
  const s = v as unknown as DissectionState & { counts: { layers: Record<string, { units: UnitJson[] }> } };
  if (!s.model?.sha256 || !Array.isArray(s.model.input)) fail('model is missing its sha256 or input shape');
  if (!s.data?.vocabulary || !Array.isArray(s.data.vocabulary.concepts))
    fail('data has no concept vocabulary');
  if (!Array.isArray(s.scanned)) fail('scanned is missing');
  const c = s.counts as unknown as Record<string, unknown>;
  const K = s.data.vocabulary.concepts.length;
  if (!c || c.concepts !== K) fail('counts do not match the vocabulary');
  if (!Array.isArray(c.conceptPixels) || c.conceptPixels.length !== K)
    fail('conceptPixels has the wrong length');
  const layers = c.layers as Record<string, { channels: number; units: UnitJson[] }>;
  if (typeof layers !== 'object' || layers === null || Object.keys(layers).length === 0) fail('no layers');
  for (const [name, l] of Object.entries(layers)) {
    if (!Array.isArray(l.units) || l.units.length !== l.channels)
      fail(`layer "${name}" does not list ${l.channels} units`);
    l.units = l.units.map((u) => {
      const pixels = Float64Array.from(u.pixels);
      const overlaps = new Float64Array(pixels.length * K);
      for (let i = 0; i < u.overlaps.length; i += 2) {
        const at = u.overlaps[i];
        if (!(Number.isInteger(at) && at >= 0 && at < overlaps.length))
          fail(`layer "${name}" has an overlap outside its bins`);
        overlaps[at] = u.overlaps[i + 1];
      }
      return { ...u, values: Float64Array.from(u.values), pixels, overlaps } as unknown as UnitJson;
    });
  }
  return {
    ...s,
    counts: {
      ...(s.counts as DissectionState['counts']),
      conceptPixels: Float64Array.from(c.conceptPixels as number[]),
      conceptImages: Float64Array.from(c.conceptImages as number[]),
    },
  } as DissectionState;
}
