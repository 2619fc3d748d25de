import { describe, expect, it } from 'vitest';
import type { FaithfulnessReport } from '../methods/evaluation/index.js';
import { faithfulnessCharts, faithfulnessMarkdown, faithfulnessTable } from './faithfulness.js';

const report = {
  samples: 2,
  methods: ['a', 'b', 'c'],
  metrics: ['deletion', 'insertion', 'confidence'],
  skipped: {},
  target: ['class 0', 'class 0'],
  params: { score: 'probability' },
  rows: [
    { method: 'a', scores: { deletion: 0.2, insertion: 0.9, averageDrop: 0.5, increase: 0 } },
    { method: 'b', scores: { deletion: 0.1, insertion: 0.8, averageDrop: 0.25, increase: 0 } },
    {
      method: 'c',
      scores: { deletion: 0.3, insertion: 0.9, averageDrop: 0.75, increase: 0 },
      deletion: { fractions: [0, 0.5, 1], mean: [1, 0.4, 0.1] },
    },
  ],
  ms: 1,
} as unknown as FaithfulnessReport;

describe('faithfulness table', () => {
  it('marks each column’s best by its direction, ties all, and nothing in a column of equal values', () => {
    const t = faithfulnessTable(report);
    expect(t.header).toEqual(['method', 'deletion AUC ↓', 'insertion AUC ↑', 'avg drop ↓', 'increase ↑']);
    expect(t.rows[1]).toEqual(['b', '0.100', '0.800', '25.0%', '0.0%']);
    expect(t.best.map((s) => [...s].sort())).toEqual([[2], [1, 3], [2]]);
    expect(faithfulnessMarkdown(report).split('\n')[3]).toBe('| b | **0.100** | 0.800 | **25.0%** | 0.0% |');
    expect(faithfulnessCharts(report).map((c) => c.name)).toEqual(['deletion']);
  });

  it('charts randomisation curves of the methods that have them (maps from .npy have none)', () => {
    const stage = (v: number) => ({
      randomized: ['fc'],
      methods: { a: { spearmanAbs: v, spearmanSigned: v, ssim: v, hog: v } },
    });
    const charts = faithfulnessCharts({ ...report, cascading: [stage(0.5)] } as FaithfulnessReport);
    const cascading = charts.find((c) => c.name === 'cascading')!.spec as { data: { values: unknown[] }[] };
    expect(cascading.data[0].values).toEqual([
      { series: 'a', x: 'original', y: 1, k: 0 },
      { series: 'a', x: 'fc', y: 0.5, k: 1 },
    ]);
  });
});
