/**
 * Tables of a TLU node: evaluate the fused float chain (dequantize or rescale the accumulator, add the float
 * bias, the univariate layers in inference mode, the closing quantizer) on every integer input value, with the
 * layers' own tfjs ops so that the table equals what the fake-quantized model computes.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';

/** One float operation of a pending chain. */
export interface ChainOp {
  /** Source layer name. */
  readonly layer: string;
  /** 'elementwise' or per last-axis channel (batch norm) with `channels` channels. */
  readonly kind: 'elementwise' | 'perChannel';
  readonly channels?: number;
  /** True when the op commutes with rounding to integers (relu, identity), so a PoT shift stays exact. */
  readonly shiftExact: boolean;
  /** Name of a function that can also run in the clear after the output ('relu', 'sigmoid', 'tanh', 'softmax'). */
  readonly clearName?: 'relu' | 'sigmoid' | 'tanh' | 'softmax';
  /** False for ops that mix elements of a sample (softmax): allowed only after the last quantizer, in the clear. @default true */
  readonly univariate?: boolean;
  /** Apply the op to a float tensor (inference mode). */
  readonly apply: (t: tf.Tensor) => tf.Tensor;
}

/** How the integers of the current tensor map to floats: f = f32(f32(q * scale[c]) + bias[c]). */
export interface FloatMap {
  readonly scale: readonly number[];
  readonly bias: Float32Array | null;
  /** Number of distinct channels c = e % channels. */
  readonly channels: number;
}

/** Rows of the evaluation tensor per tfjs call. */
const CHUNK_VALUES = 1 << 20;

/**
 * Build tables [nTables, domain length]: entry [t][j] = quantize(chain(f(value_j, t))), value_j = (domainMin + j) * 2^shift.
 * @param quantize the closing quantizer: float tensor -> integer-valued tensor.
 * @param rank the float tensor rank in the model (batch included); per-channel ops need it.
 */
export function computeTables(
  domainMin: number, domainMax: number, shift: number, nTables: number, map: FloatMap, chain: readonly ChainOp[],
  quantize: (t: tf.Tensor) => tf.Tensor, rank: number,
): Int32Array {
  const len = domainMax - domainMin + 1;
  if (len * nTables > 1 << 26) {
    throw new ConfigError(`a table lookup would need ${len} x ${nTables} entries; use roundingThresholdBits (e.g. 8) or fewer bits`);
  }
  const out = new Int32Array(nTables * len);
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_VALUES / nTables));
  const f32 = Math.fround;
  const mult = 2 ** shift;
  const perChannel = chain.some((op) => op.kind === 'perChannel');
  for (let r0 = 0; r0 < len; r0 += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, len - r0);
    const vals = new Float32Array(rows * nTables);
    for (let j = 0; j < rows; j++) {
      const a = (domainMin + r0 + j) * mult;
      for (let t = 0; t < nTables; t++) {
        const c = t % map.channels;
        let v = f32(a * (map.scale[map.scale.length === 1 ? 0 : c] as number));
        if (map.bias !== null) v = f32(v + (map.bias[c] as number));
        vals[j * nTables + t] = v;
      }
    }
    const shape = perChannel ? [rows, ...new Array<number>(Math.max(0, rank - 2)).fill(1), nTables] : [rows, nTables];
    const ints = tf.tidy(() => {
      let x: tf.Tensor = tf.tensor(vals, shape, 'float32');
      for (const op of chain) x = op.apply(x);
      return quantize(x);
    });
    const data = ints.dataSync();
    ints.dispose();
    for (let j = 0; j < rows; j++) {
      for (let t = 0; t < nTables; t++) out[t * len + r0 + j] = data[j * nTables + t] as number;
    }
  }
  return out;
}
