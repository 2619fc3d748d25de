/**
 * The architectures of the shipped models. Tensors are named for users: convK (conv output),
 * reluK, poolK, features (the last conv feature map), gap, logits.
 */
import { GraphBuilder } from '../onnx/builder.js';
import type { Model } from '../onnx/model.js';
import { float32 } from '../onnx/tensor.js';

export interface ConvStage {
  /** Output channels of each 3×3 conv in the stage. */
  convs: number[];
  /** 2×2 max-pool after the stage. */
  pool: boolean;
}

function convStack(
  b: GraphBuilder,
  x: string,
  channels: number,
  stages: ConvStage[],
): { h: string; channels: number } {
  let h = x;
  let cin = channels;
  let k = 0;
  let p = 0;
  const last = stages.flatMap((s) => s.convs).length;
  for (const stage of stages) {
    for (const out of stage.convs) {
      k++;
      h = b.named(b.conv(h, { in: cin, out, kernel: 3, pads: 1 }), `conv${k}`);
      h = b.named(b.relu(h), k === last ? 'features' : `relu${k}`);
      cin = out;
    }
    if (stage.pool) h = b.named(b.maxPool(h, { kernel: 2, stride: 2 }), `pool${++p}`);
  }
  return { h, channels: cin };
}

/**
 * Conv stack → global average pooling → one linear layer: the architecture CAM needs
 * (Zhou et al. 2016, "Learning Deep Features for Discriminative Localization", §2).
 */
export function gapClassifier(o: {
  channels: number;
  size: [number, number];
  classes: number;
  stages: ConvStage[];
  seed?: number;
}): Model {
  const b = new GraphBuilder({ seed: o.seed ?? 0 });
  const x = b.input('input', ['N', o.channels, ...o.size]);
  const { h, channels } = convStack(b, x, o.channels, o.stages);
  const gap = b.named(b.flatten(b.globalAveragePool(h)), 'gap');
  const logits = b.named(b.gemm(gap, { in: channels, out: o.classes, name: 'classifier' }), 'logits');
  return b.build([logits]);
}

/**
 * Conv stack → Flatten → FC → ReLU → Dropout → FC: a VGG-style head that keeps spatial layout in
 * its weights, so CAM cannot use it and Grad-CAM can.
 */
export function vggClassifier(o: {
  channels: number;
  size: [number, number];
  classes: number;
  stages: ConvStage[];
  hidden: number;
  dropout: number;
  seed?: number;
}): Model {
  const b = new GraphBuilder({ seed: o.seed ?? 0 });
  const x = b.input('input', ['N', o.channels, ...o.size]);
  const { h, channels } = convStack(b, x, o.channels, o.stages);
  const pools = o.stages.filter((s) => s.pool).length;
  const area = (o.size[0] >> pools) * (o.size[1] >> pools);
  const flat = b.named(b.flatten(h), 'flatten');
  const fc1 = b.named(
    b.relu(b.named(b.gemm(flat, { in: channels * area, out: o.hidden, name: 'fc1' }), 'fc1')),
    'fc1_relu',
  );
  const ratio = b.param('dropout_ratio', float32([o.dropout], []));
  const dropped = b.named(b.op1('Dropout', [fc1, ratio]), 'dropout');
  const logits = b.named(b.gemm(dropped, { in: o.hidden, out: o.classes, name: 'fc2' }), 'logits');
  return b.build([logits]);
}
