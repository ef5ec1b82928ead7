/**
 * Identity (and same-dtype Cast) on wasm without a copy. tfjs-core's engine clones every tensor it saves for the backward pass
 * (`saveTensorsForBackwardMode` → `engine.clone` → Identity), and tfjs-backend-wasm's Identity copies the bytes
 * (~0.5 ms per [128,28,28,8] tensor, ~56 calls per CNN QAT step). Like the wasm Reshape kernel, the output here
 * shares the input's data: the backend's refCount of the dataId is incremented, so the buffer is freed only when
 * both the input and the clone are disposed. No tfjs or tfjs-qat wasm kernel writes into an input's buffer, so
 * sharing is safe. Strings go to the original kernel.
 *
 * Cast to the input's own dtype is the same copy on wasm (tfjs-core's avgPool casts its float32 result to
 * float32, and gradients cast float32 masks); tfjs' cpu backend already shares there, and so does this wrapper.
 */
import type * as tf from '@tensorflow/tfjs';

/** The part of BackendWasm used here. */
interface RefCounting {
  incRef(dataId: tf.DataId): void;
}

const hasIncRef = (b: unknown): b is RefCounting =>
  typeof b === 'object' && b !== null && typeof (b as Partial<RefCounting>).incRef === 'function';

/** The shared-data output for `x`, or undefined when `x` must be copied (strings, unknown backend). */
function share(x: tf.TensorInfo | undefined, backend: unknown): tf.TensorInfo | undefined {
  if (x === undefined || (x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'bool') || !hasIncRef(backend)) return undefined;
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/**
 * Wrap the wasm Identity: float32/int32/bool outputs share the input's data (refCount + 1); the rest go to `original`.
 * @param original the kernelFunc registered by tfjs-backend-wasm.
 */
export function wrapIdentity(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => share(args.inputs['x'], args.backend) ?? original(args);
}

/**
 * Wrap the wasm Cast: a cast to the input's own dtype (float32/int32/bool) shares the data; the rest go to `original`.
 * @param original the kernelFunc registered by tfjs-backend-wasm.
 */
export function wrapCast(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs['x'];
    const dtype = (args.attrs as { dtype?: unknown } | undefined)?.dtype;
    return (x !== undefined && dtype === x.dtype ? share(x, args.backend) : undefined) ?? original(args);
  };
}
