/**
 * Float32 matmul on wasm (BatchMatMul and _FusedMatMul). Large enough batch-1 products run on tfjs-qat's own
 * SIMD GEMM with two threads (src/backend/gemm/): any transposes, bias and relu/linear fused in its store.
 * Everything else goes to the original XNNPACK kernel; as tfjs-backend-wasm 4.22 falls back to a naive loop
 * (~1 GFLOP/s) for transposed operands, those are transposed explicitly first (wasm Transpose kernel).
 */
import * as tf from '@tensorflow/tfjs';
import { QatError } from '../../errors.js';
import { gemmEnabled, gemmF32, gemmPool } from '../gemm/gemm.js';
import { asKernelBackend, asWasmBackend, disposeTemps, runKernel } from './kernel_util.js';

/** Smallest product (2*M*N*K flops) sent to the GEMM; smaller ones are cheaper on the original kernel. */
export const GEMM_MIN_FLOPS = 1 << 18;
/**
 * Smallest number of output columns sent to the GEMM (its panels are 8 columns wide: 10 columns cost 16), without
 * and with a transposed operand (the original path then pays a transpose).
 */
export const GEMM_MIN_COLS = 16;
/** See GEMM_MIN_COLS. */
export const GEMM_MIN_COLS_TRANSPOSED = 8;

/** Swap the last two axes of a tensor with the wasm Transpose kernel (a new temporary). */
function transposeLast2(x: tf.TensorInfo, backend: unknown): tf.TensorInfo {
  const r = x.shape.length;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return runKernel('Transpose', 'wasm', backend, { x }, { perm });
}

const prod = (s: readonly number[]): number => s.reduce((p, d) => p * d, 1);

/** The matmul on the GEMM, or null when this call is not one it takes. */
function viaGemm(args: Parameters<tf.KernelFunc>[0], tA: boolean, tB: boolean): tf.TensorInfo | null {
  const { a, b, bias, preluActivationWeights } = args.inputs;
  const attrs = args.attrs ?? {};
  if (!gemmEnabled() || a === undefined || b === undefined || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const act = attrs['activation'];
  if (act !== undefined && act !== null && act !== 'linear' && act !== 'relu') return null;
  if (preluActivationWeights !== undefined && preluActivationWeights !== null) return null;
  const ra = a.shape.length, rb = b.shape.length;
  if (ra < 2 || rb < 2 || prod(a.shape.slice(0, -2)) !== 1 || prod(b.shape.slice(0, -2)) !== 1) return null;
  const m = a.shape[tA ? ra - 1 : ra - 2]!, k = a.shape[tA ? ra - 2 : ra - 1]!;
  const n = b.shape[tB ? rb - 2 : rb - 1]!;
  const minCols = tA || tB ? GEMM_MIN_COLS_TRANSPOSED : GEMM_MIN_COLS;
  if (b.shape[tB ? rb - 1 : rb - 2] !== k || k < 1 || m < 1 || n < minCols || 2 * m * n * k < GEMM_MIN_FLOPS) return null;
  const hasBias = bias !== undefined && bias !== null;
  if (hasBias && (bias.dtype !== 'float32' || prod(bias.shape) !== n || bias.shape[bias.shape.length - 1] !== n)) return null;
  if (gemmPool() === null) return null;
  const backend = asWasmBackend(args.backend);
  const batch = (ra >= rb ? a.shape : b.shape).slice(0, -2);
  const out = backend.makeOutput([...batch, m, n], 'float32');
  const view = (x: tf.TensorInfo): Float32Array => backend.typedArrayFromHeap(x) as Float32Array;
  const biasView = hasBias ? view(bias) : null;
  const ok = gemmF32(view(a), view(b), view(out), { m, n, k, transA: tA, transB: tB, bias: biasView, relu: act === 'relu' });
  if (ok) return out;
  backend.disposeData(out.dataId);
  return null;
}

/**
 * Wrap a matmul kernel (BatchMatMul or _FusedMatMul, inputs `a`, `b` [, `bias`, `preluActivationWeights`], attrs
 * `transposeA`, `transposeB` [, `activation`]): batch-1 float32 products of at least GEMM_MIN_FLOPS run on the
 * SIMD GEMM; otherwise the original kernel runs, never with a transpose flag set.
 * @param original the kernelFunc registered by tfjs-backend-wasm.
 */
export function wrapTransposedMatMul(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const attrs = args.attrs ?? {};
    const tA = attrs['transposeA'] === true;
    const tB = attrs['transposeB'] === true;
    const fast = viaGemm(args, tA, tB);
    if (fast !== null) return fast;
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
