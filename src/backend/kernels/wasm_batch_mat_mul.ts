/**
 * Transposed matmul on wasm. tfjs-backend-wasm 4.22 runs XNNPACK only when neither operand is transposed and
 * falls back to a naive loop otherwise (~1 GFLOP/s); every matmul gradient is transposed. The wrapper
 * transposes the operand(s) explicitly (wasm Transpose kernel), then calls the original kernel untransposed.
 */
import * as tf from '@tensorflow/tfjs';
import { QatError } from '../../errors.js';
import { asKernelBackend, disposeTemps, runKernel } from './kernel_util.js';

/** Swap the last two axes of a tensor with the wasm Transpose kernel (a new temporary). */
function transposeLast2(x: tf.TensorInfo, backend: unknown): tf.TensorInfo {
  const r = x.shape.length;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return runKernel('Transpose', 'wasm', backend, { x }, { perm });
}

/**
 * Wrap a matmul kernel (BatchMatMul or _FusedMatMul, inputs `a`, `b`, attrs `transposeA`, `transposeB`) so that
 * it never reaches the original with a transpose flag set.
 * @param original the kernelFunc registered by tfjs-backend-wasm.
 */
export function wrapTransposedMatMul(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const attrs = args.attrs ?? {};
    const tA = attrs['transposeA'] === true;
    const tB = attrs['transposeB'] === true;
    if (!tA && !tB) return original(args);
    const { a, b } = args.inputs;
    if (a === undefined || b === undefined) throw new QatError('BatchMatMul (wasm): inputs a and b are required');
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return original(args);
    const backend = asKernelBackend(args.backend);
    const a2 = tA ? transposeLast2(a, args.backend) : a;
    const b2 = tB ? transposeLast2(b, args.backend) : b;
    try {
      return original({
        inputs: { ...args.inputs, a: a2, b: b2 },
        backend: args.backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      });
    } finally {
      disposeTemps(backend, tA ? a2 : undefined, tB ? b2 : undefined);
    }
  };
}
