import { describe, expect, it } from 'vitest';
import { type FaithfulnessParts, faithfulnessKind, MEASURES_FORMAT } from './faithfulnessJob.js';

describe('faithfulness shard results', () => {
  it('travel as JSON with a sample without a mask (NaN) kept NaN, and other JSON is refused', () => {
    const parts: FaithfulnessParts = {
      format: MEASURES_FORMAT,
      job: 'j',
      covered: [[0, 2]],
      chunks: [
        {
          start: 0,
          measures: {
            samples: 2,
            methods: ['saliency'],
            metrics: ['pointing'],
            skipped: {},
            target: ['a', 'b'],
            params: { tolerance: 1 },
            rows: [{ method: 'saliency', pointing: { hits: [1, Number.NaN], energy: [0.5, Number.NaN] } }],
          },
        },
      ],
    };
    const back = faithfulnessKind.parse(faithfulnessKind.serialize(parts), 'shard 0:2');
    expect(back).toEqual(parts);
    expect(Number.isNaN(back.chunks[0].measures.rows[0].pointing!.hits[1])).toBe(true);
    expect(() => faithfulnessKind.parse('{"covered": []}', 'shard 0:2')).toThrow(
      /shard 0:2 is not a convlens faithfulness-measures result/,
    );
    const other = { ...parts, job: 'k', covered: [[2, 4]] as [number, number][] };
    expect(() => faithfulnessKind.merge(parts, other)).toThrow(/different jobs/);
    expect(() => faithfulnessKind.merge(parts, { ...parts })).toThrow(/overlap on samples 0:2/);
  });
});
