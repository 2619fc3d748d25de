/**
 * The README's faithfulness figures: one chart of a `convlens faithfulness` run (deletion,
 * insertion, cascading or independent), redrawn from its faithfulness.json.
 * Run: npx tsx scripts/faithfulness-figure.ts OUT.png DIR CHART
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FaithfulnessReport } from '../src/methods/evaluation/index.js';
import { faithfulnessCharts } from '../src/render/faithfulness.js';
import { chartPng, writeFileAtomic } from '../src/render/node.js';

const [out, dir, name] = process.argv.slice(2);
if (!out?.endsWith('.png') || !dir || !name)
  throw new Error('usage: npx tsx scripts/faithfulness-figure.ts OUT.png DIR deletion|insertion|cascading|independent');
const report = JSON.parse(readFileSync(join(dir, 'faithfulness.json'), 'utf8')) as FaithfulnessReport;
const chart = faithfulnessCharts(report).find((c) => c.name === name);
if (!chart)
  throw new Error(`no chart "${name}" in ${dir}; it has ${faithfulnessCharts(report).map((c) => c.name).join(', ')}`);
writeFileAtomic(out, await chartPng(chart.spec));
