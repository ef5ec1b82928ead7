/**
 * Small helpers shared by tfjs-qat's kernels: calling another kernel of the same backend directly (so nothing
 * is taped), freeing temporaries, and narrowing the untyped `backend` object kernels receive.
 */
import * as tf from '@tensorflow/tfjs';
import { QatError } from '../../errors.js';

/** The part of a tfjs backend our kernels use (both wasm's BackendWasm and cpu's MathBackendCPU have it). */
export interface KernelBackendLike {
  /** Decrement the reference count of `dataId`, freeing it at zero. */
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
  /** Synchronous read of a tensor's values (cpu: no copy). */
  readSync(dataId: tf.DataId): unknown;
}

/** The cpu backend's constructor of output tensors. */
export interface CpuBackendLike extends KernelBackendLike {
  /** Create an output tensor from values. */
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array): tf.TensorInfo;
}

/** The wasm backend's allocation and heap access (BackendWasm). */
export interface WasmBackendLike extends KernelBackendLike {
  /** Allocate an output tensor on the wasm heap (contents uninitialized). */
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  /** A Float32Array/Int32Array view of a tensor's bytes on the heap (invalid after the next allocation). */
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** Narrow the `{}` backend that tfjs passes kernels to what we use; throws when it lacks the methods. */
export function asKernelBackend(backend: unknown): KernelBackendLike {
  const b = backend as Partial<KernelBackendLike> | null;
  if (b === null || typeof b !== 'object' || typeof b.disposeData !== 'function' || typeof b.readSync !== 'function') {
    throw new QatError('tfjs-qat kernel: the backend object has no disposeData/readSync; this tfjs version is not supported');
  }
  return b as KernelBackendLike;
}

/** Narrow to the cpu backend (adds makeTensorInfo). */
export function asCpuBackend(backend: unknown): CpuBackendLike {
  const b = asKernelBackend(backend) as Partial<CpuBackendLike>;
  if (typeof b.makeTensorInfo !== 'function') {
    throw new QatError('tfjs-qat kernel: the cpu backend object has no makeTensorInfo; this tfjs version is not supported');
  }
  return b as CpuBackendLike;
}

/** Narrow to the wasm backend (adds makeOutput and typedArrayFromHeap). */
export function asWasmBackend(backend: unknown): WasmBackendLike {
  const b = asKernelBackend(backend) as Partial<WasmBackendLike>;
  if (typeof b.makeOutput !== 'function' || typeof b.typedArrayFromHeap !== 'function') {
    throw new QatError('tfjs-qat kernel: the wasm backend object has no makeOutput/typedArrayFromHeap; this tfjs version is not supported');
  }
  return b as WasmBackendLike;
}

/** The kernelFunc registered for (kernelName, backendName), or throws a QatError naming it. */
export function kernelFuncOf(kernelName: string, backendName: string): tf.KernelFunc {
  const cfg = tf.getKernel(kernelName, backendName) as tf.KernelConfig | undefined;
  if (cfg === undefined) {
    throw new QatError(`tfjs-qat kernel: kernel '${kernelName}' is not registered for backend '${backendName}'`);
  }
  return cfg.kernelFunc;
}

/** Call a kernel directly (no tape, no engine bookkeeping) and return its single output. */
export function runKernel(
  kernelName: string, backendName: string, backend: unknown,
  inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  const out = kernelFuncOf(kernelName, backendName)({ inputs, backend: backend as object, attrs });
  if (Array.isArray(out)) {
    throw new QatError(`tfjs-qat kernel: '${kernelName}' returned ${out.length} outputs where one was expected`);
  }
  return out;
}

/** Free temporaries created by `runKernel` (outputs that are not returned to the engine). */
export function disposeTemps(backend: KernelBackendLike, ...infos: Array<tf.TensorInfo | undefined>): void {
  for (const info of infos) if (info !== undefined) backend.disposeData(info.dataId);
}

/** Normalize a stride attribute (number or [h, w]) to [h, w]. */
export function pair(v: number | number[] | undefined, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  if (typeof v === 'number') return [v, v];
  return [v[0] ?? dflt, v[1] ?? v[0] ?? dflt];
}

/** Shape of a TensorInfo as a 4-tuple (throws when the rank is not 4). */
export function shape4(info: tf.TensorInfo, what: string): [number, number, number, number] {
  const s = info.shape;
  if (s.length !== 4) throw new QatError(`tfjs-qat kernel: ${what} must be rank 4, got shape [${s.join(', ')}]`);
  return [s[0]!, s[1]!, s[2]!, s[3]!];
}

/** Conv attributes as tfjs passes them to Conv2DBackprop* kernels. */
export interface ConvBackpropAttrs {
  /** Strides [h, w] or one number. */
  strides: number | [number, number];
  /** 'same', 'valid', a number, or explicit [[0,0],[t,b],[l,r],[0,0]] pads. */
  pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
  /** 'NHWC' or 'NCHW'. */
  dataFormat: 'NHWC' | 'NCHW';
  /** Rounding of output dims when pad is a number. */
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Read the conv attributes from a kernel's attr map (tfjs always sets them for the conv backprop kernels). */
export function convAttrs(attrs: tf.NamedAttrMap | undefined): ConvBackpropAttrs {
  const a = (attrs ?? {}) as Record<string, unknown>;
  const strides = (a['strides'] ?? 1) as number | [number, number];
  const pad = (a['pad'] ?? 'valid') as ConvBackpropAttrs['pad'];
  const dataFormat = (a['dataFormat'] ?? 'NHWC') as 'NHWC' | 'NCHW';
  const dim = a['dimRoundingMode'];
  const dimRoundingMode = dim === 'floor' || dim === 'round' || dim === 'ceil' ? dim : undefined;
  return dimRoundingMode === undefined ? { strides, pad, dataFormat } : { strides, pad, dataFormat, dimRoundingMode };
}
