import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../onnx/builder.js';
import { float32 } from '../../onnx/tensor.js';
import { channelGrid, cropRegion, filterGrid } from '../../render/inspect.js';
import { channelStats } from './activations.js';
import { convLayers, filterWeights, findConvLayer } from './filters.js';

describe('channel statistics', () => {
  it('give mean, min, max, argmax and the fraction of positive positions per channel', () => {
    // [N=2, C=2, 2, 2]; sample 1 is read.
    const data = Float32Array.from([9, 9, 9, 9, 9, 9, 9, 9, -1, 0, 3, 2, 0, 0, 0, -4]);
    expect(channelStats(data, [2, 2, 2, 2], 1)).toEqual([
      { channel: 0, mean: 1, min: -1, max: 3, fractionActive: 0.5, argmax: [1, 0] },
      { channel: 1, mean: -1, min: -4, max: 0, fractionActive: 0, argmax: [0, 0] },
    ]);
  });
});

describe('filters', () => {
  const g = new GraphBuilder({ seed: 1 });
  const x = g.input('x', [1, 3, 8, 8]);
  const w1 = float32(
    [1, -1, 0.5, 0, 0.25, -0.5, 1, 0, 0, 0, 0, 0, 2, 0, 0, -2, 0, 0, 0, 0, 0, 0, 0, 0],
    [2, 3, 2, 2],
  );
  const c1 = g.named(g.conv(x, { in: 3, out: 2, kernel: 2, weight: w1 }), 'c1');
  const c2 = g.named(g.conv(c1, { in: 2, out: 4, kernel: 3 }), 'c2');
  const model = g.build([c2]);

  it('are found by node, output or weight name, in order, with errors listing the Conv layers', () => {
    expect(convLayers(model.graph).map((l) => [l.output, l.dims])).toEqual([
      ['c1', [2, 3, 2, 2]],
      ['c2', [4, 2, 3, 3]],
    ]);
    expect(findConvLayer(model.graph).output).toBe('c1');
    expect(findConvLayer(model.graph, 'c2').dims).toEqual([4, 2, 3, 3]);
    expect(findConvLayer(model.graph, findConvLayer(model.graph, 'c2').weight).output).toBe('c2');
    expect(() => findConvLayer(model.graph, 'c3')).toThrow(/"c3" is not a Conv layer.*Conv layers: c1, c2/);
  });

  it('become tiles at 0.5 + 0.5·w / max|w| per filter: colour for 3 inputs, a tile per input channel deeper', () => {
    const grid = filterGrid(filterWeights(model.graph, findConvLayer(model.graph)));
    expect(grid.mode).toBe('rgb');
    const tile = grid.rows[0].cells[0]!.image;
    // Filter 0: R plane [1, -1, 0.5, 0], G [0.25, -0.5, 1, 0], B zeros; max |w| = 1.
    expect(Array.from(tile.data.subarray(0, 6))).toEqual([255, 159, 128, 0, 64, 128]);
    // Filter 1 (R plane [2, 0, 0, −2]) has max |w| = 2: +2 is full red, −2 no red, zero weights mid-grey.
    const t1 = grid.rows[0].cells[1]!.image;
    expect(Array.from(t1.data)).toEqual([255, 128, 128, 128, 128, 128, 128, 128, 128, 0, 128, 128]);
    const deep = filterGrid(filterWeights(model.graph, findConvLayer(model.graph, 'c2')), { maxInputs: 1 });
    expect(deep.mode).toBe('per-input');
    expect(deep.rows.map((r) => r.cells.length)).toEqual([1, 1, 1, 1]);
    expect(deep.headers).toEqual(['in 0']);
  });

  it('feature-map tiles share one scale or use their own', () => {
    const data = Float32Array.from([0, 1, 2, 4, 0, 0.5, 1, 2]); // [1, 2, 2, 2]
    const stats = channelStats(data, [1, 2, 2, 2], 0);
    const shared = channelGrid(data, [1, 2, 2, 2], 0, stats, { scale: 'shared' });
    const own = channelGrid(data, [1, 2, 2, 2], 0, stats, { scale: 'channel' });
    const last = (rows: typeof shared, k: number) => Array.from(rows[0].cells[k]!.image.data.subarray(9, 12));
    // Channel 1's max (2) is half of the shared max but the top of its own scale.
    expect(last(own, 1)).toEqual(last(own, 0));
    expect(last(shared, 1)).not.toEqual(last(shared, 0));
    expect(shared[0].cells[0]!.caption).toBe('c0 max 4.00');
  });
});

describe('receptive-field crops', () => {
  it('copy the region and zero-pad outside the image', () => {
    // A 1×3×3 image with values 1..9 (/10); crop rows −1..1, columns 1..3.
    const image = Float32Array.from({ length: 9 }, (_, i) => (i + 1) / 10);
    const crop = cropRegion(image, 1, 3, 3, [-1, 1, 2, 4]);
    expect([crop.height, crop.width]).toEqual([3, 3]);
    const grey = Array.from({ length: 9 }, (_, j) => crop.data[j * 3]);
    expect(grey).toEqual([0, 0, 0, 51, 77, 0, 128, 153, 0]);
  });
});
