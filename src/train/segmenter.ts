/**
 * A small U-Net (Ronneberger, Fischer & Brox 2015) for per-pixel classes: two 3×3 convs per
 * level at full, 1/2 and 1/4 resolution (the last level's second conv dilated by 2, which widens
 * the receptive field to the size of a whole shape), ×2 nearest upsampling with skip
 * concatenation on the way back, and a 1×1 conv to one logit per class and pixel.
 */
import { GraphBuilder } from '../onnx/builder.js';
import type { Model } from '../onnx/model.js';
import { float32 } from '../onnx/tensor.js';

/** Names of the segmenter's input and per-pixel logits [N, classes, H, W]. */
export const SEGMENTER_TENSORS = { image: 'image', logits: 'logits' } as const;

/** The shapes segmenter's classes: background, then the six shapes in dataset order. */
export const SEGMENTER_BACKGROUND = 'background';

export interface SegmenterOptions {
  classes: number;
  /** Channels at full resolution; ×2 at the lower levels (default 32). */
  width?: number;
  seed?: number;
}

/**
 * The segmenter: input `image` [N, 3, H, W] in [0, 1] (H, W divisible by 4), output `logits`
 * [N, classes, H, W].
 *
 * @example
 * ```ts
 * const net = unetSegmenter({ classes: 7, width: 32, seed: 4 });
 * // argmax over axis 1 of 'logits' gives each pixel's class
 * ```
 */
export function unetSegmenter(options: SegmenterOptions): Model {
  const classes = options.classes;
  const w = options.width ?? 32;
  if (!(Number.isInteger(classes) && classes >= 2))
    throw new Error(`classes must be an integer ≥ 2, got ${classes}`);
  if (!(Number.isInteger(w) && w >= 1)) throw new Error(`width must be a positive integer, got ${w}`);
  const b = new GraphBuilder({ seed: options.seed ?? 0, opset: 13 });
  const convRelu = (x: string, cin: number, cout: number, dilation = 1) =>
    b.relu(b.conv(x, { in: cin, out: cout, kernel: 3, pads: dilation, dilation, name: 'seg_conv' }));
  const pool = (x: string) => b.maxPool(x, { kernel: 2, stride: 2 });
  const scales = b.param('seg_upsample', float32([1, 1, 2, 2]));
  const up = (x: string) =>
    b.op1('Resize', [x, '', scales], {
      mode: 'nearest',
      coordinate_transformation_mode: 'asymmetric',
      nearest_mode: 'floor',
    });
  const image = b.input(SEGMENTER_TENSORS.image, ['N', 3, 'H', 'W']);
  const e1 = convRelu(convRelu(image, 3, w), w, w);
  const e2 = convRelu(convRelu(pool(e1), w, 2 * w), 2 * w, 2 * w);
  const e3 = convRelu(convRelu(pool(e2), 2 * w, 2 * w), 2 * w, 2 * w, 2);
  const d2 = convRelu(b.concat([up(e3), e2]), 4 * w, 2 * w);
  const d1 = convRelu(b.concat([up(d2), e1]), 3 * w, w);
  const logits = b.conv(d1, { in: w, out: classes, kernel: 1, name: 'seg_out' });
  return b.build([b.named(logits, SEGMENTER_TENSORS.logits)]);
}
