import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelsDir } from './common.js';
import { fuzzImage, fuzzModel, shapesPicture } from './fuzz.js';

describe('fuzzing: every mutated input ends in a valid result or a named error', () => {
  it('300 mutations of shapes-gap.onnx through decoding, session creation, forward and gradients', async () => {
    const bytes = new Uint8Array(readFileSync(join(modelsDir(), 'shapes-gap.onnx')));
    const t = await fuzzModel(bytes, [1, 3, 64, 64], 300);
    expect(t.unnamed).toBe(0);
    expect(t.valid + Object.values(t.errors).reduce((a, b) => a + b, 0)).toBe(300);
    // Both outcomes occur: flipped weight bits still run, broken structure is refused.
    expect(t.valid).toBeGreaterThan(0);
    expect(t.valid).toBeLessThan(300);
  }, 120_000);

  it.each(['png', 'jpg', 'webp'])(
    '300 mutations of a %s image through decoding',
    async (format) => {
      const s = shapesPicture();
      const bytes = await (format === 'png' ? s.png() : format === 'jpg' ? s.jpeg() : s.webp()).toBuffer();
      const t = await fuzzImage(new Uint8Array(bytes), format, 300);
      expect(t.unnamed).toBe(0);
      expect(t.valid + Object.values(t.errors).reduce((a, b) => a + b, 0)).toBe(300);
      for (const key of Object.keys(t.errors)) expect(key).toMatch(/^image "…" /);
    },
    120_000,
  );
});
