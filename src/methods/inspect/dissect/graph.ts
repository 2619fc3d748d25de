/**
 * The dissection's data graph: the model with, for every dissected layer [N, C, H, W], the maps
 * of the rows n·C + c whose spatial maximum reaches a fed per-unit threshold (GlobalMaxPool in
 * onnxruntime's blocked layout, then NonZero and one Gather), so a batch fetches only the maps
 * that can reach a unit's floor instead of the whole layer.
 */
import { Emitter } from '../../../autodiff/emitter.js';
import { cloneModel, type Model } from '../../../onnx/model.js';

export interface GatherOutputs {
  /** Input [C]: a row is fetched when its max ≥ its unit's threshold. Absent before opset 9 (every row is fetched). */
  threshold?: string;
  /** [K] int32 row ids, ascending, led by row 0 (onnxruntime cannot gather zero rows). Absent: every row, in order. */
  rows?: string;
  /** [K, H·W] the rows' maps. */
  maps: string;
  /** [N·C] every row's maximum. */
  max: string;
}

export function withRowGather(
  model: Model,
  layers: Record<string, { channels: number; height: number; width: number }>,
): { model: Model; outputs: Record<string, GatherOutputs> } {
  const out = cloneModel(model);
  const emit = new Emitter(out.opsets[''] ?? 13, 'dissect');
  const outputs: Record<string, GatherOutputs> = {};
  for (const [name, l] of Object.entries(layers)) {
    const rowsOfMap = emit.reshape(name, [-1, l.height * l.width]);
    if (emit.opset < 9) {
      outputs[name] = { maps: rowsOfMap, max: emit.reduceMax(rowsOfMap, [1], false) };
      continue;
    }
    const max = emit.reshape(emit.op('GlobalMaxPool', [name]), [-1, l.channels]);
    const threshold = `dissect/threshold:${name}`;
    out.graph.inputs.push({ name: threshold, dtype: 'float32', shape: [l.channels] });
    const reaches = emit.reshape(emit.op('Not', [emit.op('Less', [max, threshold])]), [-1]);
    const maxima = emit.reshape(max, [-1]);
    const rows = emit.concat([emit.ints([0]), emit.reshape(emit.op('NonZero', [reaches]), [-1])], 0);
    outputs[name] = {
      threshold,
      rows: emit.op('Cast', [rows], { to: 6 }),
      maps: emit.op('Gather', [rowsOfMap, rows], { axis: 0 }),
      max: maxima,
    };
  }
  out.graph.nodes.push(...emit.nodes);
  for (const [k, v] of emit.initializers) out.graph.initializers.set(k, v);
  out.graph.outputs.push(
    ...Object.values(outputs).flatMap((o) =>
      [o.rows, o.maps].filter((n) => n !== undefined).map((name) => ({ name })),
    ),
  );
  return { model: out, outputs };
}
