/**
 * Which tensors are feature maps a CAM can sit on: 4-D tensors whose axes the convolutions and
 * pools lay out as [N, C, H, W] (channel axis 1, traced through element-wise ops and transposes),
 * with both spatial sides ≥ 2. A head's pooled, permuted or normalised [1, 1, 1, C] is not one.
 */

import { axisRoles } from '../../onnx/layout.js';
import type { Model } from '../../onnx/model.js';
import type { LayerInfo } from '../../runtime/model.js';

/** The feature maps among `layers` (shapes at batch 1), in their order. */
export function featureMapsOf(model: Model, layers: readonly LayerInfo[]): LayerInfo[] {
  const ranks = new Map(layers.map((l) => [l.tensor, l.shape.length]));
  const roles = axisRoles(model, (t) => ranks.get(t));
  return layers.filter((l) => {
    const r = roles.get(l.tensor);
    return (
      l.opType !== 'Input' &&
      l.shape.length === 4 &&
      r?.channel === 1 &&
      r.spatial[0] === 2 &&
      r.spatial[1] === 3 &&
      l.shape[2] >= 2 &&
      l.shape[3] >= 2
    );
  });
}

/** Why a 4-D tensor is not a feature map, for warnings and errors. */
export function notAFeatureMap(info: LayerInfo): string {
  return `layer "${info.tensor}" (${info.opType}, shape [${info.shape.join(', ')}]) is not a feature map laid out [N, C, H, W] by the convolutions with H, W ≥ 2`;
}
