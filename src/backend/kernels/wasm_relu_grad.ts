/**
 * The gradient of Relu as one fused kernel, `QatReluGrad(dy, x) = dy · step(x)` with tfjs' step: 1 for x > 0,
 * 0 for x <= 0, NaN for NaN (so NaN propagates, x = 0 gives dy·0, -0 for dy < 0). tfjs computes
 * `dy * cast(step(x), 'float32')` as three kernels (Step, Cast, Multiply: ~2 ms on [128,28,28,8] on wasm); the
 * fused kernel is one SIMD pass on wasm and one typed-array loop on cpu, with the same float32 values.
 *
 * `registerReluGradient()` replaces tfjs' gradient of 'Relu' (once per process): when the active backend has
 * QatReluGrad registered it is used, otherwise (tensorflow backend, kernels disabled) tfjs' formula runs.
 */
import * as tf from '@tensorflow/tfjs';
import { QatError } from '../../errors.js';
import { assemble, op, T, V, type WasmFn } from '../wasm_asm.js';
import { HeapModule } from '../wasm_module.js';
import { asCpuBackend, asWasmBackend } from './kernel_util.js';
import { addr, forUp } from './wasm_loop.js';

/** Name of the fused kernel (inputs dy, x). */
export const RELU_GRAD_KERNEL = 'QatReluGrad';

const s = op.simd;

// reluGrad(dy, x, out, nBytes): out = dy * (x > 0 ? 1 : x != x ? x : 0), nBytes a multiple of 16.
function reluGradFn(): WasmFn {
  const [dy, x, out, n, o, one, xv, m] = [0, 1, 2, 3, 4, 5, 6, 7];
  return {
    name: 'reluGrad', params: [T.i32, T.i32, T.i32, T.i32], results: [], locals: [T.i32, T.v128, T.v128, T.v128],
    body: [...op.vConstF32(1), ...op.set(one), ...forUp(o, n, 16, [
      ...addr(x, o), ...op.vLoad(), ...op.set(xv),
      ...op.get(one), ...op.get(xv), ...op.vConstF32(0), ...s(V.f32x4Gt), ...s(V.and), ...op.set(m),
      ...addr(out, o), ...addr(dy, o), ...op.vLoad(),
      ...op.get(xv), ...op.get(m), ...op.get(xv), ...op.get(xv), ...s(V.f32x4Ne), ...s(V.bitselect),
      ...s(V.f32x4Mul), ...op.vStore(),
    ])],
  };
}

const heapModule = new HeapModule<{ reluGrad(dy: number, x: number, out: number, nBytes: number): void }>(assemble([reluGradFn()]));

/** tfjs' step(x) with alpha 0: 1 for x > 0, NaN for NaN, else 0. */
const step = (v: number): number => (v > 0 ? 1 : v !== v ? NaN : 0);

/** out[i] = dy[i] · step(x[i]) for i in [from, to). */
export function reluGradLoop(dy: ArrayLike<number>, x: ArrayLike<number>, out: Float32Array, from = 0, to = out.length): void {
  for (let i = from; i < to; i++) out[i] = dy[i]! * step(x[i]!);
}

function inputsOf(inputs: tf.NamedTensorInfoMap): [tf.TensorInfo, tf.TensorInfo] {
  const { dy, x } = inputs;
  if (dy === undefined || x === undefined) throw new QatError(`${RELU_GRAD_KERNEL}: inputs dy and x are required`);
  if (dy.dtype !== 'float32' || x.dtype !== 'float32') {
    throw new QatError(`${RELU_GRAD_KERNEL}: dy and x must be float32, got ${dy.dtype} and ${x.dtype}`);
  }
  if (dy.shape.join(',') !== x.shape.join(',')) {
    throw new QatError(`${RELU_GRAD_KERNEL}: dy [${dy.shape.join(',')}] and x [${x.shape.join(',')}] must have the same shape`);
  }
  return [dy, x];
}

/** QatReluGrad on wasm (SIMD; JS loop without wasm SIMD and for the size % 4 tail). */
export const wasmReluGradConfig: tf.KernelConfig = {
  kernelName: RELU_GRAD_KERNEL,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const [dy, x] = inputsOf(inputs);
    const b = asWasmBackend(backend);
    const mod = heapModule.bind(backend);
    const out = b.makeOutput([...x.shape], 'float32');
    // Views only after the allocation (malloc may grow the heap and detach older views).
    const dyv = b.typedArrayFromHeap(dy);
    const xv = b.typedArrayFromHeap(x);
    const ov = b.typedArrayFromHeap(out) as Float32Array;
    const n4 = mod === null ? 0 : ov.length & ~3;
    if (mod !== null) mod.reluGrad(dyv.byteOffset, xv.byteOffset, ov.byteOffset, n4 * 4);
    reluGradLoop(dyv, xv, ov, n4);
    return out;
  },
};

/** QatReluGrad on cpu (typed-array loop). */
export const cpuReluGradConfig: tf.KernelConfig = {
  kernelName: RELU_GRAD_KERNEL,
  backendName: 'cpu',
  kernelFunc: ({ inputs, backend }) => {
    const [dy, x] = inputsOf(inputs);
    const b = asCpuBackend(backend);
    const out = new Float32Array(x.shape.reduce((p, q) => p * q, 1));
    reluGradLoop(b.readSync(dy.dataId) as Float32Array, b.readSync(x.dataId) as Float32Array, out);
    return b.makeTensorInfo([...x.shape], 'float32', out);
  },
};

const hasFusedKernel = (): boolean => tf.getKernel(RELU_GRAD_KERNEL, tf.getBackend()) !== undefined;

/** dy · step(x) through the fused kernel when the active backend has it, else tfjs' own formula. */
function reluGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  if (x.dtype === 'float32' && dy.dtype === 'float32' && hasFusedKernel()) {
    return tf.engine().runKernel(RELU_GRAD_KERNEL, { dy, x }) as tf.Tensor;
  }
  return tf.mul(dy, tf.cast(tf.step(x), 'float32'));
}

let gradientRegistered = false;

/**
 * Register tfjs-qat's gradient of 'Relu' (and of QatReluGrad itself, for second derivatives). Idempotent.
 * Values equal tfjs' own gradient; only the number of kernels differs.
 */
export function registerReluGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: 'Relu', inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      if (x === undefined || Array.isArray(dy)) throw new QatError('Relu gradient: the saved input x is missing');
      return { x: () => reluGrad(dy, x) };
    },
  });
  tf.registerGradient({
    kernelName: RELU_GRAD_KERNEL, inputsToSave: ['x'],
    gradFunc: (ddx, saved) => {
      const [x] = saved;
      if (x === undefined || Array.isArray(ddx)) throw new QatError(`${RELU_GRAD_KERNEL} gradient: the saved input x is missing`);
      return { dy: () => reluGrad(ddx, x), x: () => tf.zerosLike(x) };
    },
  });
}
