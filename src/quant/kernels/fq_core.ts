/**
 * Shared pieces of the fake-quant kernels (register.ts, act_fq.ts): attribute readers, grid bounds, the SIMD
 * dispatch, and the forward/backward bodies over typed-array views (SIMD loops on wasm for per-tensor scales with
 * zero point 0, the JS loops of loops.ts otherwise).
 */
import type * as tf from '@tensorflow/tfjs';
import type { QuantKernelBackend } from './kernel_io.js';
import { fakeQuantBackward, fakeQuantForward, type GridBounds } from './loops.js';
import { addPlusZero, reluCopy, simdFakeQuant, simdFakeQuantGrad, simdOf, zeroWhereNotPositive } from './simd_paths.js';
import type { SimdExports } from './wasm_simd.js';

/** Kernel attributes as a plain record. */
export type Attrs = Record<string, unknown>;
/** A numeric attribute. */
export const num = (a: Attrs, k: string): number => Number(a[k]);
/** A boolean attribute (true only for `true`). */
export const bool = (a: Attrs, k: string): boolean => a[k] === true;

/** Grid bounds; on wasm the clamp follows tfjs-wasm's ClipByValue (IEEE max/min), on cpu tfjs-cpu's. */
export function bounds(a: Attrs, bn: QuantKernelBackend): GridBounds {
  return { minF: Math.fround(num(a, 'minInt')), maxF: Math.fround(num(a, 'maxInt')), zp: num(a, 'zeroPoint') || 0, ieeeClamp: bn === 'wasm' };
}

/** The SIMD loops when the backend is wasm and the case is per tensor with zero point 0. */
export function simd(bn: QuantKernelBackend, backend: unknown, perTensor: boolean, g: GridBounds): SimdExports | null {
  return bn === 'wasm' && perTensor && g.zp === 0 ? simdOf(backend) : null;
}

/** A named kernel input. @throws Error when missing (a programming error, not user input). */
export function inp(inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`tfjs-qat quantizer kernel: missing input '${name}'`);
  return t;
}

/** out = fake-quant(x) (of max(x, 0) with `relu`) with the scale(s) `sv`, or its integers with `intOut`. */
export function fakeQuantInto(
  bn: QuantKernelBackend, backend: unknown, xv: Float32Array, sv: Float32Array, out: Float32Array, g: GridBounds, intOut: boolean, relu: boolean,
): void {
  const k = simd(bn, backend, sv.length === 1, g);
  if (k !== null) simdFakeQuant(k, xv, out, sv[0]!, g, intOut, relu);
  else fakeQuantForward(relu ? reluCopy(xv) : xv, sv, out, g, intOut);
}

/**
 * Backward of fake quantization: returns ds (sum dy * d out/d s per scale, in double) and writes dx when given
 * ('mask' mode; with `relu` also zero where x <= 0).
 */
export function fakeQuantGradInto(
  bn: QuantKernelBackend, backend: unknown, dyv: Float32Array, xv: Float32Array, sv: Float32Array, dx: Float32Array | null, g: GridBounds, relu: boolean,
  plusZero = false,
): Float64Array {
  const ds = new Float64Array(sv.length);
  const k = simd(bn, backend, sv.length === 1, g);
  if (k !== null) ds[0] = simdFakeQuantGrad(k, dyv, xv, dx, sv[0]!, g, relu && dx !== null, plusZero);
  else {
    fakeQuantBackward(dyv, relu ? reluCopy(xv) : xv, sv, ds, dx, g);
    if (relu && dx !== null) zeroWhereNotPositive(dx, xv);
    if (plusZero && dx !== null) addPlusZero(dx);
  }
  return ds;
}
