import { describe, expect, it } from 'vitest';
import { imageCount, overlaps, planShards, type Shard } from './shards.js';

describe('planShards', () => {
  const cases: { range: Shard; covered: Shard[]; size: number; shards: Shard[] }[] = [
    {
      range: [0, 10],
      covered: [],
      size: 4,
      shards: [
        [0, 4],
        [4, 8],
        [8, 10],
      ],
    },
    {
      range: [0, 10],
      covered: [[0, 3]],
      size: 4,
      shards: [
        [3, 4],
        [4, 8],
        [8, 10],
      ],
    },
    {
      range: [0, 10],
      covered: [[4, 8]],
      size: 4,
      shards: [
        [0, 4],
        [8, 10],
      ],
    },
    {
      range: [0, 10],
      covered: [
        [5, 6],
        [1, 2],
      ],
      size: 10,
      shards: [
        [0, 1],
        [2, 5],
        [6, 10],
      ],
    },
    {
      range: [3, 9],
      covered: [],
      size: 4,
      shards: [
        [3, 7],
        [7, 9],
      ],
    },
    { range: [0, 8], covered: [[0, 8]], size: 3, shards: [] },
    { range: [0, 5], covered: [], size: 100, shards: [[0, 5]] },
  ];
  it.each(cases)('$range minus $covered in shards of $size', ({ range, covered, size, shards }) => {
    const planned = planShards(range, covered, size);
    expect(planned).toEqual(shards);
    // The plan and what is covered partition the range.
    expect(imageCount(planned) + imageCount(covered.filter(([s, e]) => s >= range[0] && e <= range[1]))).toBe(
      range[1] - range[0],
    );
  });

  it('refuses a shard size below 1', () => {
    expect(() => planShards([0, 4], [], 0)).toThrow(/shard size must be a positive integer, got 0/);
  });

  it('tells whether a shard touches covered images', () => {
    expect(overlaps([[0, 4]], [4, 8])).toBe(false);
    expect(overlaps([[0, 5]], [4, 8])).toBe(true);
  });
});
