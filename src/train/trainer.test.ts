import { describe, expect, it } from 'vitest';
import { arrayDataset } from '../data/dataset.js';
import { preprocessing } from '../data/preprocess.js';
import { shapesDataset } from '../data/shapes.js';
import { GraphBuilder } from '../onnx/builder.js';
import { encodeModel } from '../onnx/model.js';
import { float32 } from '../onnx/tensor.js';
import { nodeBackend } from '../runtime/node.js';
import { gapClassifier, vggClassifier } from './architectures.js';
import { batchStats, crossEntropySeed, train } from './trainer.js';
import { buildTrainingGraph, trainableParameters } from './trainingGraph.js';

const backend = nodeBackend();

describe('training graph', () => {
  it('gives the softmax cross-entropy gradient of a linear model: dW = (p − y)ᵀx / B, db = Σ(p − y) / B', async () => {
    const b = new GraphBuilder();
    const x = b.input('input', ['N', 3]);
    const W = [0.5, -1, 0.25, 1, 0, -0.5];
    const logits = b.gemm(x, { in: 3, out: 2, weight: float32(W, [2, 3]), name: 'fc' });
    const model = b.build([logits]);
    const params = trainableParameters(model);
    expect(params).toHaveLength(2);
    const tg = await buildTrainingGraph(model, { inputShape: [2, 3], logits, trainable: params }, backend);
    const session = await backend.createSession(encodeModel(tg.model).bytes);
    const xs = [1, 2, -1, 0.5, -0.5, 3];
    const labels = Int32Array.from([1, 0]);
    const feeds = {
      input: float32(xs, [2, 3]),
      [tg.seed]: crossEntropySeed(labels, 2),
      [params[0]]: model.graph.initializers.get(params[0])!,
      [params[1]]: model.graph.initializers.get(params[1])!,
    };
    const out = await session.run(feeds);
    const bias = Array.from(model.graph.initializers.get(params[1])!.data as Float32Array);
    const dW = new Array(6).fill(0);
    const db = [0, 0];
    let loss = 0;
    for (let n = 0; n < 2; n++) {
      const z = [0, 1].map(
        (k) => W[k * 3] * xs[n * 3] + W[k * 3 + 1] * xs[n * 3 + 1] + W[k * 3 + 2] * xs[n * 3 + 2] + bias[k],
      );
      const e = z.map((v) => Math.exp(v - Math.max(...z)));
      const p = e.map((v) => v / (e[0] + e[1]));
      loss -= Math.log(p[labels[n]]) / 2;
      for (let k = 0; k < 2; k++) {
        const d = (p[k] - (labels[n] === k ? 1 : 0)) / 2;
        db[k] += d;
        for (let i = 0; i < 3; i++) dW[k * 3 + i] += d * xs[n * 3 + i];
      }
    }
    expect(Array.from(out[tg.params[0].grad].data as Float32Array).map((v) => +v.toFixed(5))).toEqual(
      dW.map((v) => +v.toFixed(5)),
    );
    expect(Array.from(out[tg.params[1].grad].data as Float32Array).map((v) => +v.toFixed(5))).toEqual(
      db.map((v) => +v.toFixed(5)),
    );
    expect(batchStats(out[tg.logprob].data as Float32Array, labels, 2).loss).toBeCloseTo(loss, 5);
    await session.release();
  });

  it('turns Dropout into a multiply by a fed mask, and picks weights but not BatchNorm statistics', async () => {
    const model = vggClassifier({
      channels: 3,
      size: [16, 16],
      classes: 4,
      hidden: 8,
      dropout: 0.25,
      stages: [{ convs: [4], pool: true }],
    });
    const tg = await buildTrainingGraph(
      model,
      { inputShape: [2, 3, 16, 16], logits: 'logits', trainable: trainableParameters(model) },
      backend,
    );
    expect(tg.masks).toEqual([{ name: 'dropout::dropout_mask', dims: [2, 8], ratio: 0.25 }]);
    expect(tg.model.graph.nodes.some((n) => n.opType === 'Dropout')).toBe(false);
    expect(tg.params.map((p) => p.dims)).toEqual([[4, 3, 3, 3], [4], [8, 256], [8], [4, 8], [4]]);

    const b = new GraphBuilder();
    const h = b.batchNorm(b.conv(b.input('input', [1, 1, 4, 4]), { in: 1, out: 2, kernel: 3 }), 2);
    const bn = b.build([b.gemm(b.flatten(b.globalAveragePool(h)), { in: 2, out: 2 })]);
    const names = trainableParameters(bn);
    expect(names.filter((n) => n.startsWith('bn_'))).toEqual(names.filter((n) => /bn_(scale|bias)/.test(n)));
    expect(names.filter((n) => /bn_(scale|bias)/.test(n))).toHaveLength(2);
  });
});

describe('train', () => {
  const data = shapesDataset({ length: 16, seed: 5, size: 16 });
  const p = preprocessing([16, 16], 3, 'symmetric');
  const small = () =>
    gapClassifier({
      channels: 3,
      size: [16, 16],
      classes: 6,
      stages: [
        { convs: [8], pool: true },
        { convs: [16], pool: false },
      ],
      seed: 4,
    });

  it('lowers the loss on a fixed batch and is deterministic by seed', async () => {
    const options = {
      preprocessing: p,
      epochs: 60,
      batchSize: 16,
      optimizer: { type: 'adam' as const, lr: 0.01 },
      validation: data,
      seed: 9,
    };
    const a = await train(small(), data, options, backend);
    expect(a.history).toHaveLength(60);
    expect(a.history[59].loss).toBeLessThan(0.5 * a.history[0].loss);
    expect(a.valAccuracy).toBeGreaterThan(0.5);
    const b = await train(small(), data, options, backend);
    const name = trainableParameters(a.model)[0];
    expect(b.model.graph.initializers.get(name)!.data).toEqual(a.model.graph.initializers.get(name)!.data);
    expect(a.model.graph.initializers.get(name)!.data).not.toEqual(
      small().graph.initializers.get(name)!.data,
    );
  });

  it('keeps the weights of the best validation epoch', async () => {
    const r = await train(
      small(),
      data,
      {
        preprocessing: p,
        epochs: 4,
        batchSize: 8,
        optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 },
        validation: data,
      },
      backend,
    );
    const best = Math.max(...r.history.map((h) => h.valAccuracy));
    expect(r.valAccuracy).toBe(best);
    expect(r.history[r.bestEpoch - 1].valAccuracy).toBe(best);
  });

  it('rejects a dataset whose classes do not match the logits, and bad settings', async () => {
    const two = arrayDataset({ name: 'two', classes: ['a', 'b'], channels: 3, height: 16, width: 16 }, [
      { image: new Float32Array(768), label: 0 },
      { image: new Float32Array(768), label: 1 },
    ]);
    const options = {
      preprocessing: p,
      epochs: 1,
      batchSize: 2,
      optimizer: { type: 'adam' as const, lr: 0.01 },
      validation: two,
    };
    await expect(train(small(), two, options, backend)).rejects.toThrow(
      /dataset "two" has 2 classes; the model's logits have 6/,
    );
    await expect(train(small(), two, { ...options, epochs: 0 }, backend)).rejects.toThrow(
      /epochs must be a positive integer/,
    );
  });
});
