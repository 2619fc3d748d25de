/**
 * Cross-check convlens's input gradients against PyTorch autograd on torchvision exports made by
 * export_torchvision.py. Optional, never part of the default test run.
 *
 * Run: npm run crosscheck:torch            (exports, then compares; needs /usr/bin/python3 with torch)
 *      npx tsx scripts/crosscheck/compare.ts DIR   (compares an existing export folder)
 *
 * Per case it prints the logits' relative L2 error, the input gradient's relative L2 error and
 * correlation against autograd in float64, and PyTorch's own float32 gradient's error against the
 * same reference (the float32 noise floor: ReLU kinks and near-tied max-pool windows flip between
 * precisions, most of all in deep random-weight nets whose late feature maps are nearly flat).
 * A case passes when the logits agree to 1e-3 and the gradient error is below 1e-3, or within 2× of
 * PyTorch's own float32 error, or below 1e-2 with correlation ≥ 0.9999 (one unit flipped by
 * rounding moves one receptive field's worth of gradient; a wrong rule moves everything).
 * Exits 1 if any case fails.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classSeed } from '../../src/autodiff/seeds.js';
import { decodeNpy } from '../../src/data/npy.js';
import { loadModel } from '../../src/node.js';
import { float32 } from '../../src/onnx/tensor.js';

interface Case {
  case: string;
  model: string;
  opset: number;
  batchnorm: string;
  target: number;
}

const dir = process.argv[2] ?? 'tmp/crosscheck';
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { torch: string; cases: Case[] };
const npy = (c: Case, what: string) => decodeNpy(readFileSync(join(dir, `${c.case}.${what}.npy`)), what);

function relativeError(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

function correlation(a: Float32Array, b: Float32Array): number {
  const mean = (v: Float32Array) => v.reduce((s, x) => s + x, 0) / v.length;
  const [ma, mb] = [mean(a), mean(b)];
  let [sab, saa, sbb] = [0, 0, 0];
  for (let i = 0; i < a.length; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

const rows: string[][] = [];
let failed = 0;
for (const c of manifest.cases) {
  const input = npy(c, 'input');
  let cells: string[];
  try {
    const m = await loadModel(join(dir, `${c.case}.onnx`));
    const x = float32(input.data, input.shape);
    const logitsName = m.outputNames[0];
    const classes = npy(c, 'logits').shape[1];
    const t = performance.now();
    const r = await m.gradients(x, { objective: [{ tensor: logitsName, weights: classSeed([1, classes], c.target) }] });
    const ms = performance.now() - t;
    const logitError = relativeError(r.outputs[logitsName].data as Float32Array, npy(c, 'logits').data);
    const g = r.gradients[m.inputNames[0]].data as Float32Array;
    const expected = npy(c, 'grad').data;
    const error = relativeError(g, expected);
    const corr = correlation(g, expected);
    const floor = relativeError(npy(c, 'grad32').data, expected);
    const pass = logitError < 1e-3 && (error < Math.max(1e-3, 2 * floor) || (error < 1e-2 && corr >= 0.9999));
    if (!pass) failed++;
    cells = [
      logitError.toExponential(1),
      error.toExponential(1),
      floor.toExponential(1),
      corr.toFixed(6),
      ms.toFixed(0),
      pass ? 'ok' : 'FAIL',
    ];
    await m.release();
  } catch (err) {
    failed++;
    cells = ['—', '—', '—', '—', '—', `FAIL: ${(err as Error).message.split('\n')[0].slice(0, 160)}`];
  }
  rows.push([c.model, String(c.opset), c.batchnorm, ...cells]);
  console.error(`${c.case}: ${cells.at(-1)}`);
}
const header = ['model', 'opset', 'BN', 'logits err', 'grad err', 'torch f32 err', 'grad corr', 'ms', 'result'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)) + 2);
const line = (r: string[]) => r.map((cell, i) => cell.padEnd(widths[i])).join('');
console.log(`convlens vs PyTorch ${manifest.torch} autograd (float64 reference), input gradient of logit ${manifest.cases[0]?.target}`);
console.log(line(header));
for (const r of rows) console.log(line(r));
console.log(failed === 0 ? `all ${rows.length} cases pass` : `${failed} of ${rows.length} cases fail`);
process.exit(failed === 0 ? 0 : 1);
