/**
 * The slow fuzzing run (`npm run fuzz`): thousands of seeded mutations of shapes-gap.onnx and of
 * PNG, JPEG and WebP images; prints how each ended. The fast variant runs in `npm test`.
 * Run: npm run fuzz [-- --models N] [-- --images N]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelsDir } from '../src/cli/common.js';
import { type FuzzTally, fuzzImage, fuzzModel, shapesPicture } from '../src/cli/fuzz.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const report = (what: string, t: FuzzTally, seconds: number) => {
  console.log(`\n${what}: ${t.cases} cases in ${seconds.toFixed(0)} s; ${t.valid} valid, ${t.cases - t.valid - t.unnamed} named errors, ${t.unnamed} unnamed throws`);
  for (const [k, v] of Object.entries(t.errors).sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`  ${String(v).padStart(5)}  ${k}`);
};

let started = performance.now();
const model = new Uint8Array(readFileSync(join(modelsDir(), 'shapes-gap.onnx')));
report('shapes-gap.onnx', await fuzzModel(model, [1, 3, 64, 64], arg('--models', 5000), 7), (performance.now() - started) / 1000);
for (const format of ['png', 'jpg', 'webp'] as const) {
  const s = shapesPicture();
  const bytes = await (format === 'png' ? s.png() : format === 'jpg' ? s.jpeg() : s.webp()).toBuffer();
  started = performance.now();
  report(`${format} image`, await fuzzImage(new Uint8Array(bytes), format, arg('--images', 3000), 7), (performance.now() - started) / 1000);
}
