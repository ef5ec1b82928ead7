/**
 * Identity on wasm without a copy. tfjs-core's engine clones every tensor it saves for the backward pass
 * (`saveTensorsForBackwardMode` → `engine.clone` → Identity), and tfjs-backend-wasm's Identity copies the bytes
 * (~0.5 ms per [128,28,28,8] tensor, ~56 calls per CNN QAT step). Like the wasm Reshape kernel, the output here
 * shares the input's data: the backend's refCount of the dataId is incremented, so the buffer is freed only when
 * both the input and the clone are disposed. No tfjs or tfjs-qat wasm kernel writes into an input's buffer, so
 * sharing is safe. Strings go to the original kernel.
 */
import type * as tf from '@tensorflow/tfjs';

/** The part of BackendWasm used here. */
interface RefCounting {
  incRef(dataId: tf.DataId): void;
}

const hasIncRef = (b: unknown): b is RefCounting =>
  typeof b === 'object' && b !== null && typeof (b as Partial<RefCounting>).incRef === 'function';

/**
 * Wrap the wasm Identity: float32/int32/bool outputs share the input's data (refCount + 1); the rest go to `original`.
 * @param original the kernelFunc registered by tfjs-backend-wasm.
 */
export function wrapIdentity(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs['x'];
    if (x === undefined || (x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'bool') || !hasIncRef(args.backend)) {
      return original(args);
    }
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}
