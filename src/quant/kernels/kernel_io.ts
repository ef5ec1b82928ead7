/**
 * Typed-array access to kernel inputs and outputs on the two backends with JS-visible memory: wasm (views on the
 * wasm heap, no copy) and cpu (the backend's own TypedArrays, no copy). Outputs are allocated first and all views
 * taken afterwards (a wasm allocation may grow the heap and detach older views).
 */
import type * as tf from '@tensorflow/tfjs';
import { QatError } from '../../errors.js';
import { asCpuBackend, asWasmBackend } from '../../backend/kernels/kernel_util.js';

/** Backends our quantizer kernels are registered for. */
export type QuantKernelBackend = 'wasm' | 'cpu';

/** One output to allocate. */
export interface OutSpec {
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'int32';
}

/** Views of the inputs and the freshly allocated outputs of one kernel call. */
export interface KernelViews {
  readonly ins: Array<Float32Array | Int32Array>;
  readonly outs: Array<Float32Array | Int32Array>;
  /** The outputs to return to the engine (after the views were filled). */
  readonly infos: tf.TensorInfo[];
}

const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/**
 * Allocate `outSpecs` on `backend` and return views of `inputs` and of the outputs. On cpu the outputs are
 * registered with the backend only in `finish` (their arrays are filled first).
 */
export function kernelViews(
  backendName: QuantKernelBackend, backend: unknown, inputs: readonly tf.TensorInfo[], outSpecs: readonly OutSpec[],
): { views: KernelViews; finish: () => tf.TensorInfo[] } {
  if (backendName === 'wasm') {
    const b = asWasmBackend(backend);
    const infos = outSpecs.map((o) => b.makeOutput([...o.shape], o.dtype));
    const ins = inputs.map((t) => viewOf(b.typedArrayFromHeap(t), t));
    const outs = infos.map((t) => viewOf(b.typedArrayFromHeap(t), t));
    return { views: { ins, outs, infos }, finish: () => infos };
  }
  const b = asCpuBackend(backend);
  const ins = inputs.map((t) => viewOf(b.readSync(t.dataId), t));
  const outs = outSpecs.map((o) => (o.dtype === 'int32' ? new Int32Array(sizeOf(o.shape)) : new Float32Array(sizeOf(o.shape))));
  const infos: tf.TensorInfo[] = [];
  return {
    views: { ins, outs, infos },
    finish: () => outSpecs.map((o, i) => b.makeTensorInfo([...o.shape], o.dtype, outs[i] as Float32Array)),
  };
}

function viewOf(v: unknown, t: tf.TensorInfo): Float32Array | Int32Array {
  if (v instanceof Float32Array || v instanceof Int32Array) return v;
  throw new QatError(`tfjs-qat quantizer kernel: a ${t.dtype} tensor of shape [${t.shape.join(',')}] has no float32/int32 buffer`);
}

/** Narrow a view to float32 (our kernels take float32 data inputs). */
export function f32View(v: Float32Array | Int32Array | undefined, what: string): Float32Array {
  if (v instanceof Float32Array) return v;
  throw new QatError(`tfjs-qat quantizer kernel: ${what} must be float32`);
}
