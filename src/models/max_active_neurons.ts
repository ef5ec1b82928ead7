/** Concrete ML's accumulator budget: how many non-zero weights one output neuron may have. */
import { ConfigError } from '../errors.js';

/** Bit widths of the budget. */
export interface AccumulatorBudgetBits {
  /** Weight bits. */
  readonly nWBits: number;
  /** Activation (input) bits. */
  readonly nABits: number;
  /** Accumulator bits. */
  readonly nAccumBits: number;
}

function bits(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 64) throw new ConfigError(`${name} must be an integer in [1, 64]; got ${JSON.stringify(v)}`);
  return v;
}

/**
 * floor((2^nAccumBits - 1) / (2^nWBits - 1) / (2^nABits - 1)) (Concrete ML `max_active_neurons`):
 * the largest fan-in whose worst-case accumulator fits in nAccumBits.
 * @throws ConfigError when the budget is 0 (the accumulator is too small even for one weight).
 * @example maxActiveNeurons({ nWBits: 4, nABits: 4, nAccumBits: 32 }) // 19088743
 * @example maxActiveNeurons({ nWBits: 3, nABits: 3, nAccumBits: 12 }) // 83
 */
export function maxActiveNeurons(b: AccumulatorBudgetBits): number {
  const w = bits(b.nWBits, 'nWBits');
  const a = bits(b.nABits, 'nABits');
  const acc = bits(b.nAccumBits, 'nAccumBits');
  const n = Math.floor((2 ** acc - 1) / (2 ** w - 1) / (2 ** a - 1));
  if (n < 1) {
    throw new ConfigError(`maxActiveNeurons: nAccumBits = ${acc} cannot hold even one product of a ${w}-bit weight and a ${a}-bit activation; ` +
      `use nAccumBits >= ${Math.ceil(Math.log2((2 ** w - 1) * (2 ** a - 1) + 1))} or fewer bits`);
  }
  return n;
}
