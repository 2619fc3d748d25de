/**
 * The README's dissection figure: interpretable units per layer of several dissections side by
 * side (e.g. a trained model and its randomly re-initialised copy).
 * Run: npx tsx scripts/dissect-figure.ts OUT.png NAME=DIR [NAME=DIR ...]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DissectionResult } from '../src/methods/inspect/dissect/dissect.js';
import { dissectionSummarySpec } from '../src/render/dissect.js';
import { chartPng, writeFileAtomic } from '../src/render/node.js';

const [out, ...pairs] = process.argv.slice(2);
if (!out?.endsWith('.png') || pairs.length === 0 || pairs.some((p) => !p.includes('=')))
  throw new Error('usage: npx tsx scripts/dissect-figure.ts OUT.png NAME=DIR [NAME=DIR ...]');
const results = pairs.map((p) => {
  const [name, dir] = p.split('=');
  return { name, result: JSON.parse(readFileSync(join(dir, 'dissect.json'), 'utf8')) as DissectionResult };
});
const { images } = results[0].result.data;
writeFileAtomic(
  out,
  await chartPng(dissectionSummarySpec(results, { title: `units labelled per layer (${images} shapes-concepts images, IoU > ${results[0].result.iouThreshold})` })),
);
