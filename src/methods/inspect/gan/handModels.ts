/**
 * Hand-built models for GAN-dissection tests: a generator whose two units each draw one known
 * square, and a segmenter that reads the colours they are drawn in.
 */
import { GraphBuilder } from '../../../onnx/builder.js';
import type { Model } from '../../../onnx/model.js';
import { float32, int64 } from '../../../onnx/tensor.js';

/** The hand-built segmenter's classes. */
export const HAND_CLASSES = ['background', 'red', 'green'];

/**
 * A hand-built generator: layer `units` [N, 2, 4, 4] holds unit 0 = 1 on the top-left 2×2 cells and
 * unit 1 = 1 on the bottom-right 2×2 cells (whatever z is); the image (8×8) is unit 0 in red and
 * unit 1 in green, upsampled ×2.
 */
export function handGenerator(): Model {
  const b = new GraphBuilder();
  const z = b.input('z', ['N', 2]);
  const pattern = new Float32Array(32);
  for (const [u, y0, x0] of [
    [0, 0, 0],
    [1, 2, 2],
  ])
    for (let y = y0; y < y0 + 2; y++) for (let x = x0; x < x0 + 2; x++) pattern[u * 16 + y * 4 + x] = 1;
  const w = float32(new Float32Array(64), [32, 2]);
  const fc = b.op1('Gemm', [z, b.param('w', w), b.param('pattern', float32(pattern))], { transB: 1 });
  const units = b.named(b.relu(b.op1('Reshape', [fc, b.param('shape', int64([-1, 2, 4, 4]))])), 'units');
  const up = b.op1('Resize', [units, '', b.param('scales', float32([1, 1, 2, 2]))], { mode: 'nearest' });
  const rgb = float32([1, 0, 0, 1, 0, 0], [3, 2, 1, 1]);
  const image = b.conv(up, { in: 2, out: 3, kernel: 1, weight: rgb, biasValue: float32([0, 0, 0]) });
  return b.build([b.named(image, 'image')]);
}

/** A hand-built segmenter: logits background 0.5, red = R, green = G. */
export function handSegmenter(classes = 3): Model {
  const b = new GraphBuilder();
  const x = b.input('image', ['N', 3, 'H', 'W']);
  const w = new Float32Array(classes * 3);
  w[1 * 3 + 0] = 1;
  w[2 * 3 + 1] = 1;
  const bias = new Float32Array(classes);
  bias[0] = 0.5;
  const logits = b.conv(x, {
    in: 3,
    out: classes,
    kernel: 1,
    weight: float32(w, [classes, 3, 1, 1]),
    biasValue: float32(bias),
  });
  return b.build([b.named(logits, 'logits')]);
}
