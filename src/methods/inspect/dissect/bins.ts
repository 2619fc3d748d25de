/**
 * Value bins for dissection's quantiles: a float32 falls in the bin named by its top 16 bits
 * (sign, exponent, 7 mantissa bits), reordered so bins sort like the values. A bin spans a
 * relative width of 2⁻⁷ (0.78%); every machine and shard bins a value alike, so counts merge
 * exactly.
 */

/** Number of bins. */
export const BINS = 0x10000;
/** A bin's width relative to its lower edge (finite, normal values). */
export const BIN_RELATIVE_WIDTH = 2 ** -7;

/** The bin of a float32 given by its IEEE-754 bits (as an unsigned 32-bit integer). */
export const binOfBits = (bits: number): number =>
  bits >>> 31 ? 0x7fff - ((bits & 0x7fffffff) >>> 16) : 0x8000 + (bits >>> 16);

/** Whether float32 bits are an infinity or NaN. */
export const nonFiniteBits = (bits: number): boolean => (bits & 0x7f800000) === 0x7f800000;

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** The bin of a number (rounded to float32). */
export function binOf(v: number): number {
  scratch[0] = v;
  return binOfBits(scratchBits[0]);
}

/** The least float32 in `bin` (−∞ for bin 0, which only NaN and −∞ reach), so v ≥ edge ⇔ binOf(v) ≥ bin. */
export function binLowerEdge(bin: number): number {
  if (bin <= 0) return Number.NEGATIVE_INFINITY;
  if (bin >= 0x8000) scratchBits[0] = (bin - 0x8000) << 16;
  else scratchBits[0] = (0x80000000 | ((0x7fff - bin) << 16) | 0xffff) >>> 0;
  return scratch[0];
}
