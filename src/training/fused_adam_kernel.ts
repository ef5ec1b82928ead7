/**
 * The 'QatAdam' kernel: one Adam update of a float32 variable in one call, for the wasm and cpu backends.
 *
 * Inputs `value`, `m`, `v`, `grad` (same shape, float32); attrs `beta1`, `beta2`, `learningRate`, `epsilon`,
 * `oneMinusAccBeta1`, `oneMinusAccBeta2` (numbers). Outputs three NEW tensors [value', m', v'] (the inputs are
 * never written: other code caches by dataId). Every operation is float32 and in the order of tfjs-core 4.22's
 * AdamOptimizer.applyGradients, with its scalars cast to float32 the way tfjs casts them:
 *
 *     m' = f(f(m·f(β1)) + f(g·f(1-β1)))            v' = f(f(v·f(β2)) + f(f(g·g)·f(1-β2)))
 *     value' = f(f(f(f(m'/a1) / f(f(√f(v'/a2)) + f(ε))) · f(-lr)) + value)    a_i = f(1 - accβ_i)
 *
 * where f rounds to float32. On wasm the loop is f32x4 SIMD (IEEE-exact mul/add/div/sqrt) with a scalar f32 tail;
 * unrolled ×4; on cpu a JS loop with Math.fround after every operation (double-then-round is exact for + − × ÷ √ of float32).
 */
import * as tf from '@tensorflow/tfjs';
import { QatError } from '../errors.js';
import { assemble, op, T, V, type WasmFn } from '../backend/wasm_asm.js';
import { HeapModule } from '../backend/wasm_module.js';
import { asCpuBackend, asWasmBackend } from '../backend/kernels/kernel_util.js';

/** The registered kernel name. */
export const ADAM_KERNEL = 'QatAdam';

/** Attributes of the 'QatAdam' kernel (plain JS numbers; the kernel casts them to float32 like tfjs does). */
export interface AdamKernelAttrs {
  /** First-moment decay β1. */
  beta1: number;
  /** Second-moment decay β2. */
  beta2: number;
  /** Learning rate (the step is multiplied by f32(-learningRate)). */
  learningRate: number;
  /** ε added to √v̂. */
  epsilon: number;
  /** f32(1 - accβ1), the first bias correction. */
  oneMinusAccBeta1: number;
  /** f32(1 - accβ2), the second bias correction. */
  oneMinusAccBeta2: number;
}

/** The eight float32 constants of one update, in kernel parameter order. */
type Consts = [b1: number, c1: number, b2: number, c2: number, a1: number, a2: number, eps: number, nlr: number];

function consts(a: AdamKernelAttrs): Consts {
  const f = Math.fround;
  return [f(a.beta1), f(1 - a.beta1), f(a.beta2), f(1 - a.beta2), f(a.oneMinusAccBeta1), f(a.oneMinusAccBeta2), f(a.epsilon), f(-a.learningRate)];
}

function readAttrs(attrs: tf.NamedAttrMap | undefined): AdamKernelAttrs {
  const a = (attrs ?? {}) as Record<string, unknown>;
  const n = (k: keyof AdamKernelAttrs): number => {
    const v = a[k];
    if (typeof v !== 'number') throw new QatError(`${ADAM_KERNEL}: attr '${k}' must be a number; got ${String(v)}`);
    return v;
  };
  return {
    beta1: n('beta1'), beta2: n('beta2'), learningRate: n('learningRate'), epsilon: n('epsilon'),
    oneMinusAccBeta1: n('oneMinusAccBeta1'), oneMinusAccBeta2: n('oneMinusAccBeta2'),
  };
}

function readInputs(inputs: tf.NamedTensorInfoMap): [tf.TensorInfo, tf.TensorInfo, tf.TensorInfo, tf.TensorInfo] {
  const { value, m, v, grad } = inputs;
  if (value === undefined || m === undefined || v === undefined || grad === undefined) {
    throw new QatError(`${ADAM_KERNEL}: inputs value, m, v and grad are required`);
  }
  const size = tf.util.sizeFromShape(value.shape);
  for (const [k, t] of [['value', value], ['m', m], ['v', v], ['grad', grad]] as const) {
    if (t.dtype !== 'float32') throw new QatError(`${ADAM_KERNEL}: input '${k}' must be float32; got ${t.dtype}`);
    if (tf.util.sizeFromShape(t.shape) !== size) {
      throw new QatError(`${ADAM_KERNEL}: input '${k}' has shape [${t.shape.join(', ')}], expected the shape of value [${value.shape.join(', ')}]`);
    }
  }
  return [value, m, v, grad];
}

// ---------------------------------------------------------------- wasm

// adam(pVal, pM, pV, pG, oVal, oM, oV, nBytes, b1, c1, b2, c2, a1, a2, eps, nlr)
const P = { val: 0, m: 1, v: 2, g: 3, oVal: 4, oM: 5, oV: 6, n: 7, c0: 8 } as const;
const L = { o: 16, n4: 17, vc0: 18, g: 26, m1: 27, v1: 28, gs: 29, m1s: 30, v1s: 31 } as const;

/** The update for one vector (f32x4) or one scalar (f32) at byte offset `o + off`; `c(i)` pushes constant i. */
function updateBody(simd: boolean, c: (i: number) => number[], g: number, m1: number, v1: number, off = 0): number[] {
  const s = op.simd;
  const [load, store, mul, add, div, sqrt] = simd
    ? [op.vLoad(off), op.vStore(off), s(V.f32x4Mul), s(V.f32x4Add), s(V.f32x4Div), s(V.f32x4Sqrt)]
    : [op.f32Load(off), op.f32Store(off), op.f32Mul, op.f32Add, op.f32Div, op.f32Sqrt];
  const at = (p: number): number[] => [...op.get(p), ...op.get(L.o), ...op.i32Add];
  return [
    ...at(P.g), ...load, ...op.set(g),
    // m1 = m*b1 + g*c1
    ...at(P.m), ...load, ...c(0), ...mul, ...op.get(g), ...c(1), ...mul, ...add, ...op.set(m1),
    // v1 = v*b2 + (g*g)*c2
    ...at(P.v), ...load, ...c(2), ...mul, ...op.get(g), ...op.get(g), ...mul, ...c(3), ...mul, ...add, ...op.set(v1),
    ...at(P.oM), ...op.get(m1), ...store,
    ...at(P.oV), ...op.get(v1), ...store,
    // value' = ((m1/a1) / (sqrt(v1/a2) + eps)) * nlr + value
    ...at(P.oVal), ...op.get(m1), ...c(4), ...div, ...op.get(v1), ...c(5), ...div, ...sqrt, ...c(6), ...add, ...div,
    ...c(7), ...mul, ...at(P.val), ...load, ...add, ...store,
  ];
}

/** while (o < end) { body; o += step } */
function loop(end: number, step: number, body: number[]): number[] {
  return [
    ...op.block, ...op.loop, ...op.get(L.o), ...op.get(end), ...op.i32GeU, ...op.brIf(1),
    ...body, ...op.get(L.o), ...op.i32(step), ...op.i32Add, ...op.set(L.o), ...op.br(0), ...op.end, ...op.end,
  ];
}

function adamFn(): WasmFn {
  const splats: number[] = [];
  for (let i = 0; i < 8; i++) splats.push(...op.get(P.c0 + i), ...op.simd(V.f32x4Splat), ...op.set(L.vc0 + i));
  return {
    name: 'adam',
    params: [T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.f32, T.f32, T.f32, T.f32, T.f32, T.f32, T.f32, T.f32],
    results: [],
    locals: [T.i32, T.i32, ...Array<typeof T.v128>(11).fill(T.v128), T.f32, T.f32, T.f32],
    body: [
      ...splats,
      ...op.get(P.n), ...op.i32(-64), ...op.i32And, ...op.set(L.n4),
      // 4 vectors per iteration (~25% faster than 1: less loop overhead), then single vectors, then scalars
      ...loop(L.n4, 64, [0, 16, 32, 48].flatMap((off) => updateBody(true, (i) => op.get(L.vc0 + i), L.g, L.m1, L.v1, off))),
      ...op.get(P.n), ...op.i32(-16), ...op.i32And, ...op.set(L.n4),
      ...loop(L.n4, 16, updateBody(true, (i) => op.get(L.vc0 + i), L.g, L.m1, L.v1)),
      ...loop(P.n, 4, updateBody(false, (i) => op.get(P.c0 + i), L.gs, L.m1s, L.v1s)),
    ],
  };
}

interface AdamExports {
  adam(pVal: number, pM: number, pV: number, pG: number, oVal: number, oM: number, oV: number, nBytes: number, ...c: Consts): void;
}

const adamModule = new HeapModule<AdamExports>(assemble([adamFn()]));

/** Whether the wasm loop can run on this backend object (tfjs' wasm backend on an engine with SIMD). */
export function wasmAdamAvailable(backend: unknown): boolean {
  return adamModule.bind(backend) !== null;
}

function wasmAdam(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] {
  const b = asWasmBackend(args.backend);
  const mod = adamModule.bind(args.backend);
  if (mod === null) throw new QatError(`${ADAM_KERNEL}: the wasm module cannot run here (no WebAssembly SIMD?); use the cpu backend`);
  const [value, m, v, grad] = readInputs(args.inputs);
  const c = consts(readAttrs(args.attrs));
  // Allocate the outputs first: malloc may grow the heap and detach earlier views.
  const outs = [b.makeOutput(value.shape, 'float32'), b.makeOutput(value.shape, 'float32'), b.makeOutput(value.shape, 'float32')] as const;
  const n = tf.util.sizeFromShape(value.shape);
  if (n > 0) {
    const p = (t: tf.TensorInfo): number => b.typedArrayFromHeap(t).byteOffset;
    mod.adam(p(value), p(m), p(v), p(grad), p(outs[0]), p(outs[1]), p(outs[2]), n * 4, ...c);
  }
  return [...outs];
}

// ---------------------------------------------------------------- cpu

/** The same update as the wasm kernel on typed arrays (Math.fround after every operation). */
export function adamLoop(
  value: Float32Array, m: Float32Array, v: Float32Array, grad: Float32Array,
  outValue: Float32Array, outM: Float32Array, outV: Float32Array, attrs: AdamKernelAttrs,
): void {
  const f = Math.fround;
  const [b1, c1, b2, c2, a1, a2, eps, nlr] = consts(attrs);
  for (let i = 0; i < value.length; i++) {
    const g = grad[i]!;
    const m1 = f(f(m[i]! * b1) + f(g * c1));
    const v1 = f(f(v[i]! * b2) + f(f(g * g) * c2));
    outM[i] = m1;
    outV[i] = v1;
    outValue[i] = f(f(f(f(m1 / a1) / f(f(Math.sqrt(f(v1 / a2))) + eps)) * nlr) + value[i]!);
  }
}

function cpuAdam(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] {
  const b = asCpuBackend(args.backend);
  const [value, m, v, grad] = readInputs(args.inputs);
  const attrs = readAttrs(args.attrs);
  const read = (t: tf.TensorInfo, k: string): Float32Array => {
    const d = b.readSync(t.dataId);
    if (!(d instanceof Float32Array)) throw new QatError(`${ADAM_KERNEL}: cpu input '${k}' is not a Float32Array`);
    return d;
  };
  const n = tf.util.sizeFromShape(value.shape);
  const [ov, om, ovv] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  adamLoop(read(value, 'value'), read(m, 'm'), read(v, 'v'), read(grad, 'grad'), ov, om, ovv, attrs);
  return [b.makeTensorInfo(value.shape, 'float32', ov), b.makeTensorInfo(value.shape, 'float32', om), b.makeTensorInfo(value.shape, 'float32', ovv)];
}

// ---------------------------------------------------------------- registration

/** Backends that have a 'QatAdam' kernel. */
export const ADAM_KERNEL_BACKENDS = ['wasm', 'cpu'] as const;

/** Register 'QatAdam' for wasm and cpu (once; a no-op when already registered). */
export function registerAdamKernels(): void {
  const funcs: Record<(typeof ADAM_KERNEL_BACKENDS)[number], tf.KernelFunc> = {
    wasm: wasmAdam as unknown as tf.KernelFunc,
    cpu: cpuAdam as unknown as tf.KernelFunc,
  };
  for (const backendName of ADAM_KERNEL_BACKENDS) {
    if (tf.getKernel(ADAM_KERNEL, backendName) === undefined) {
      tf.registerKernel({ kernelName: ADAM_KERNEL, backendName, kernelFunc: funcs[backendName] });
    }
  }
}
