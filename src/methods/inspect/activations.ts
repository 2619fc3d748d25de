/** Per-channel statistics of a feature map. */

export interface ChannelStats {
  channel: number;
  mean: number;
  min: number;
  max: number;
  /** Fraction of positions with a value > 0 (after ReLU: how often the channel fires). */
  fractionActive: number;
  /** Spatial position of the max, [y, x]. */
  argmax: [number, number];
}

/**
 * Statistics of every channel of sample `index` of a [N, C, H, W] map.
 *
 * @example
 * ```ts
 * const stats = channelStats(map.data, map.dims, 0);
 * console.log(stats.sort((a, b) => b.max - a.max)[0].channel); // the most excited channel
 * ```
 */
export function channelStats(data: Float32Array, dims: number[], index: number): ChannelStats[] {
  if (dims.length !== 4)
    throw new Error(`channel statistics need an [N, C, H, W] map, got [${dims.join(', ')}]`);
  const [, c, h, w] = dims;
  const area = h * w;
  return Array.from({ length: c }, (_, k) => {
    const offset = (index * c + k) * area;
    let sum = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let active = 0;
    let at = 0;
    for (let j = 0; j < area; j++) {
      const v = data[offset + j];
      sum += v;
      if (v < min) min = v;
      if (v > max) {
        max = v;
        at = j;
      }
      if (v > 0) active++;
    }
    return {
      channel: k,
      mean: sum / area,
      min,
      max,
      fractionActive: active / area,
      argmax: [Math.floor(at / w), at % w],
    };
  });
}
