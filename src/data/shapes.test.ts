import { describe, expect, it } from 'vitest';
import { drawShapes, SHAPE_CLASSES, shapeDistance, shapesDataset, shapesSplits } from './shapes.js';

describe('shapes dataset', () => {
  it('is deterministic: the same seed gives the same bytes, another seed other bytes', () => {
    const a = shapesDataset({ length: 5, seed: 7 });
    const b = shapesDataset({ length: 5, seed: 7 });
    const c = shapesDataset({ length: 5, seed: 8 });
    for (let i = 0; i < 5; i++) {
      expect(Buffer.from(a.get(i).image.buffer)).toEqual(Buffer.from(b.get(i).image.buffer));
      expect(a.get(i).label).toBe(b.get(i).label);
      expect(Buffer.from(a.get(i).image.buffer).equals(Buffer.from(c.get(i).image.buffer))).toBe(false);
    }
  });

  it('draws a sample the same alone or after others (random access)', () => {
    const d = shapesDataset({ length: 10, seed: 3 });
    const late = d.get(9).image;
    for (let i = 0; i < 9; i++) d.get(i);
    expect(d.get(9).image).toEqual(late);
  });

  it('gives each object a mask and box that agree with the drawn pixels', () => {
    for (let i = 0; i < 20; i++) {
      const s = drawShapes(11, i, 64, 0);
      const area = 64 * 64;
      expect(s.objects.length).toBeGreaterThanOrEqual(1);
      expect(s.objects.length).toBeLessThanOrEqual(3);
      expect(s.label).toBe(s.objects[0].classIndex);
      for (const o of s.objects) {
        let count = 0;
        let [x0, y0, x1, y1] = [64, 64, 0, 0];
        for (let p = 0; p < area; p++) {
          if (!o.mask[p]) continue;
          count++;
          const x = p % 64;
          const y = Math.floor(p / 64);
          [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x + 1), Math.max(y1, y + 1)];
          // Pixels whose 5×5 neighbourhood is inside are fully covered: exactly the object's colour.
          let interior = true;
          for (let dy = -2; dy <= 2; dy++)
            for (let dx = -2; dx <= 2; dx++) if (!o.mask[(y + dy) * 64 + x + dx]) interior = false;
          for (let c = 0; c < 3; c++) {
            const v = s.image[c * area + p];
            if (interior) expect(v).toBeCloseTo(o.color[c], 5);
          }
        }
        expect(count).toBeGreaterThan(10);
        expect(o.box).toEqual([x0, y0, x1, y1]);
        // The box lies inside the drawn object's circumscribed square.
        expect(x0).toBeGreaterThanOrEqual(Math.floor(o.cx - o.radius));
        expect(x1).toBeLessThanOrEqual(Math.ceil(o.cx + o.radius) + 1);
      }
      // Objects never overlap, and the labelled one is the largest.
      for (let a = 0; a < s.objects.length; a++) {
        for (let b = a + 1; b < s.objects.length; b++) {
          for (let p = 0; p < area; p++) expect(s.objects[a].mask[p] & s.objects[b].mask[p]).toBe(0);
        }
        expect(s.objects[a].radius).toBeLessThanOrEqual(s.objects[0].radius);
      }
    }
  });

  it('has signed distances negative inside and positive outside each shape', () => {
    const inside: Record<string, [number, number]> = {
      circle: [0, 0],
      square: [0, 0],
      triangle: [0, 0],
      star: [0, 0],
      cross: [0, 0],
      ring: [0.68, 0],
    };
    for (const shape of SHAPE_CLASSES) {
      expect(shapeDistance(shape, ...inside[shape])).toBeLessThan(0);
      expect(shapeDistance(shape, 1.2, 1.2)).toBeGreaterThan(0);
    }
    expect(shapeDistance('ring', 0, 0)).toBeGreaterThan(0); // the hole
  });

  it('draws every class with roughly equal frequency', () => {
    const { train } = shapesSplits({ train: 600, test: 10, size: 32 });
    const counts = new Array(SHAPE_CLASSES.length).fill(0);
    for (let i = 0; i < train.length; i++) counts[train.get(i).label]++;
    for (const c of counts) expect(c).toBeGreaterThan(60);
  });

  it('draws train, test and validation from different seeds', () => {
    const { train, test, validation } = shapesSplits({ train: 4, test: 4, validation: 4, size: 16 });
    expect(validation!.name).toBe('shapes/validation');
    expect(validation!.length).toBe(4);
    const first = [train, test, validation!].map((d) => d.get(0).image);
    for (const [a, b] of [
      [0, 1],
      [0, 2],
      [1, 2],
    ])
      expect(first[a]).not.toEqual(first[b]);
  });

  it('rejects bad options and indices', () => {
    expect(() => shapesDataset({ length: 3, size: 8 })).toThrow(/size must be an integer ≥ 16/);
    expect(() => shapesDataset({ length: 3 }).get(3)).toThrow(/index 3 outside 0..2/);
  });
});
