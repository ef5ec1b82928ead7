/**
 * Comparison and logical kernels on wasm with a size-1 operand of rank > 0 (e.g. `equal(x, max(x, keepDims))`
 * in the gradient of tf.max, or a [1,1] threshold).
 *
 * tfjs-backend-wasm 4.22 sends such calls through its generic broadcast loop (Equal of 784×256 against [1,1]:
 * ~25-80 ms) while a rank-0 scalar takes its fast path (~2 ms). The wrapper passes the size-1 operand as a rank-0
 * view of the same data (no copy, no refcount change) and restores the broadcast output shape. Equal shapes and
 * other broadcasts go to the original kernel unchanged (typed-array loops in JS were measured and are not faster).
 */
import * as tf from '@tensorflow/tfjs';

/** Comparison and logical kernels handled here. */
export const BINARY_BOOL_KERNELS = [
  'Equal', 'NotEqual', 'Greater', 'GreaterEqual', 'Less', 'LessEqual', 'LogicalAnd', 'LogicalOr',
] as const;

/** One of BINARY_BOOL_KERNELS. */
export type BinaryBoolKernel = typeof BINARY_BOOL_KERNELS[number];

const size = (s: readonly number[]): number => s.reduce((p, q) => p * q, 1);

/** A rank-0 view of a size-1 tensor when it has rank > 0 and the other side is larger, else the tensor itself. */
function scalarView(x: tf.TensorInfo, other: tf.TensorInfo): tf.TensorInfo {
  if (x.shape.length === 0 || size(x.shape) !== 1 || size(other.shape) <= 1) return x;
  return { dataId: x.dataId, shape: [], dtype: x.dtype };
}

/**
 * Wrap a comparison/logical wasm kernel (inputs `a`, `b`) so that a size-1 operand takes the scalar path.
 * @param original the kernelFunc registered by tfjs-backend-wasm.
 */
export function wrapBinaryBool(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { a, b } = args.inputs;
    if (a === undefined || b === undefined || a.dtype === 'string' || b.dtype === 'string') return original(args);
    const a2 = scalarView(a, b);
    const b2 = scalarView(b, a);
    if (a2 === a && b2 === b) return original(args);
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = original({ ...args, inputs: { ...args.inputs, a: a2, b: b2 } });
    if (Array.isArray(out)) return out;
    return { dataId: out.dataId, shape, dtype: out.dtype };
  };
}
