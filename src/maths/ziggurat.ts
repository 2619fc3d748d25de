/**
 * Ziggurat tables for the standard normal (Marsaglia & Tsang 2000, "The Ziggurat Method for Generating
 * Random Variables", J. Stat. Softw. 5(8); layout of Doornik 2005): 128 layers of equal area V under
 * f(x) = exp(−x²/2), the base layer holding the tail beyond R.
 */
export const LAYERS = 128;
/** Right edge of the base layer's rectangle part, the start of the tail. */
export const TAIL_START = 3.442619855899;
/** Area of each layer (rectangle, or base rectangle plus tail), unnormalised f. */
export const LAYER_AREA = 9.91256303526217e-3;

const f = (x: number) => Math.exp(-0.5 * x * x);

/**
 * edge[i]: layer i's half-width (edge[0] = V / f(R), the base's width with its tail stacked on;
 * edge[1] = R; edge[i+1] = f⁻¹(f(edge[i]) + V / edge[i]); edge[128] = 0). inner[i] = edge[i+1] / edge[i]:
 * |u| < inner[i] lies under the curve for every height in the layer. height[i] = f(edge[i]).
 */
export function zigguratTables(): { edge: Float64Array; inner: Float64Array; height: Float64Array } {
  const edge = new Float64Array(LAYERS + 1);
  edge[0] = LAYER_AREA / f(TAIL_START);
  edge[1] = TAIL_START;
  for (let i = 1; i < LAYERS - 1; i++)
    edge[i + 1] = Math.sqrt(-2 * Math.log(LAYER_AREA / edge[i] + f(edge[i])));
  edge[LAYERS] = 0;
  const inner = new Float64Array(LAYERS);
  const height = new Float64Array(LAYERS + 1);
  for (let i = 0; i < LAYERS; i++) inner[i] = edge[i + 1] / edge[i];
  for (let i = 0; i <= LAYERS; i++) height[i] = f(edge[i]);
  return { edge, inner, height };
}
