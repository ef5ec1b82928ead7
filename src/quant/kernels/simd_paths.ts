/**
 * The wasm-backend fast paths of the quantizer kernels: per-tensor scales (the common case) run the SIMD loops of
 * wasm_simd.ts on the heap views; the last n % 4 elements (and every per-channel case) use the JS loops with the
 * same IEEE clamp, so results do not depend on where an element falls.
 */
import { simdFor, wasmApi, type SimdExports } from './wasm_simd.js';
import { fakeQuantBackward, fakeQuantForward, selectTopAbs, TopAbsCollector, type GridBounds, type TopAbs } from './loops.js';

/** The SIMD functions for a wasm backend object, or null (no SIMD, or not the tfjs wasm backend). */
export function simdOf(backend: unknown): SimdExports | null {
  const mem = (backend as { wasm?: { asm?: { memory?: unknown } } } | null)?.wasm?.asm?.memory;
  return wasmApi !== undefined && mem instanceof wasmApi.Memory ? simdFor(mem) : null;
}

const body = (n: number): number => n & ~3;

/** out = fake-quant(x) (of max(x, 0) with `relu`) with one scale; SIMD over the body, JS over the tail. */
export function simdFakeQuant(k: SimdExports, x: Float32Array, out: Float32Array, s: number, g: GridBounds, intOut: boolean, relu = false): void {
  const nb = body(x.length);
  const f = relu ? (intOut ? k.fqIntRelu : k.fqRelu) : intOut ? k.fqInt : k.fq;
  f(x.byteOffset, out.byteOffset, nb * 4, s, g.minF, g.maxF);
  if (nb < x.length) {
    const tail = relu ? reluCopy(x.subarray(nb)) : x.subarray(nb);
    fakeQuantForward(tail, new Float32Array([s]), out.subarray(nb), { ...g, ieeeClamp: true }, intOut);
  }
}

/**
 * Backward with one scale: returns sum dy * d out/d s; writes dx (mask mode) when given. `relu` (mask mode only):
 * the forward quantized max(x, 0), so dx is also zero where x <= 0.
 */
export function simdFakeQuantGrad(
  k: SimdExports, dy: Float32Array, x: Float32Array, dx: Float32Array | null, s: number, g: GridBounds, relu = false, plusZero = false,
): number {
  const n = x.length;
  const nb = body(n);
  const mask = plusZero ? (relu ? k.fqGradMaskReluZ : k.fqGradMaskZ) : relu ? k.fqGradMaskRelu : k.fqGradMask;
  let acc = dx === null
    ? k.fqGradSte(dy.byteOffset, x.byteOffset, nb * 4, s, g.minF, g.maxF)
    : mask(dy.byteOffset, x.byteOffset, dx.byteOffset, nb * 4, s, g.minF, g.maxF);
  if (nb < n) {
    const ds = new Float64Array(1);
    const xt = x.subarray(nb);
    const dxt = dx === null ? null : dx.subarray(nb);
    fakeQuantBackward(dy.subarray(nb), relu ? reluCopy(xt) : xt, new Float32Array([s]), ds, dxt, { ...g, ieeeClamp: true });
    if (relu && dxt !== null) zeroWhereNotPositive(dxt, xt);
    if (plusZero && dxt !== null) addPlusZero(dxt);
    acc += ds[0]!;
  }
  return acc;
}

/** v[i] = v[i] + 0 (-0 -> +0, everything else unchanged). */
export function addPlusZero(v: Float32Array): void {
  for (let i = 0; i < v.length; i++) v[i] = v[i]! + 0;
}

/** out = max(x, 0) (SIMD body with f32x4.max against +0, JS tail with Math.max: the same values). */
export function simdRelu(k: SimdExports, x: Float32Array, out: Float32Array): void {
  const nb = body(x.length);
  k.relu(x.byteOffset, out.byteOffset, nb * 4);
  for (let i = nb; i < x.length; i++) out[i] = Math.max(0, x[i]!);
}

/** max(x, 0) elementwise as a new array (Math.max: -0 -> +0, NaN stays NaN), as tfjs' relu. */
export function reluCopy(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.max(0, x[i]!);
  return out;
}

/** dx[i] = 0 where !(x[i] > 0): the relu's gradient mask on top of the quantizer's. */
export function zeroWhereNotPositive(dx: Float32Array, x: Float32Array): void {
  for (let i = 0; i < x.length; i++) if (!(x[i]! > 0)) dx[i] = 0;
}

/** max |x| over the whole tensor. */
export function simdAbsMax(k: SimdExports, x: Float32Array): number {
  const nb = body(x.length);
  let m = nb > 0 ? k.absMax(x.byteOffset, nb * 4) : 0;
  for (let i = nb; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!));
  return m;
}

/** Indices i with |x[i]| === m, ascending (SIMD search for 4-element blocks with a match, JS over the tail). */
export function simdAbsEqIndices(k: SimdExports, x: Float32Array, m: number): number[] {
  const out: number[] = [];
  const nb = body(x.length);
  let o = k.absEqBlock(x.byteOffset, 0, nb * 4, m);
  while (o >= 0) {
    for (let i = o >> 2; i < (o >> 2) + 4; i++) if (Math.abs(x[i]!) === m) out.push(i);
    o = k.absEqBlock(x.byteOffset, o + 16, nb * 4, m);
  }
  for (let i = nb; i < x.length; i++) if (Math.abs(x[i]!) === m) out.push(i);
  return out;
}

/**
 * The STE backward of a per-tensor weight quantizer in one pass: dw = dy, returns sum dy * (q - w/s) (in double).
 */
export function simdFakeQuantGradSteCopy(k: SimdExports, dy: Float32Array, x: Float32Array, dw: Float32Array, s: number, g: GridBounds): number {
  const n = x.length;
  const nb = body(n);
  let acc = k.fqGradSteCopy(dy.byteOffset, x.byteOffset, dw.byteOffset, nb * 4, s, g.minF, g.maxF);
  if (nb < n) {
    const ds = new Float64Array(1);
    fakeQuantBackward(dy.subarray(nb), x.subarray(nb), new Float32Array([s]), ds, null, { ...g, ieeeClamp: true });
    dw.set(dy.subarray(nb), nb);
    acc += ds[0]!;
  }
  return acc;
}

/**
 * The j-th largest |x| (of relu(x) with `relu`; ties by ascending index, as tf.topk). j = 1: SIMD max + first index. j > 1: SIMD maxima of
 * 16-element blocks, the j-th largest block maximum tau bounds the answer from below, so only blocks whose maximum
 * reaches tau (plus the tail) are searched exactly; tau itself is found the same way over the block maxima when
 * `blocks` has room after its first n/16 floats (scratch on the heap: n/16 + n/256 + ... floats for every level).
 */
export function simdSelectTopAbs(k: SimdExports, x: Float32Array, j: number, blocks: Float32Array | null, relu = false): TopAbs {
  const n = x.length;
  // (a relu copy is not on the wasm heap: the JS selection)
  if (relu && (j === 1 || blocks === null || Math.floor(n / 16) < 4 * j || blocks.length < Math.floor(n / 16))) return selectTopAbs(reluCopy(x), j);
  if (j === 1) {
    const m = simdAbsMax(k, x);
    const nb = body(n);
    let idx = nb > 0 ? k.absEqFirst(x.byteOffset, 0, n, m) : -1;
    if (idx < 0) idx = Math.max(0, x.findIndex((v) => Math.abs(v) === m));
    return { value: m, index: idx };
  }
  const nBlocks = Math.floor(n / 16);
  if (blocks === null || nBlocks < 4 * j || blocks.length < nBlocks) return selectTopAbs(x, j);
  (relu ? k.absMaxBlocksRelu : k.absMaxBlocks)(x.byteOffset, blocks.byteOffset, nBlocks);
  // The j-th largest block maximum, by the same method one level up (blocks of blocks) while the rest of the scratch allows.
  const tau = simdSelectTopAbs(k, blocks.subarray(0, nBlocks), j, blocks.length > nBlocks ? blocks.subarray(nBlocks) : null).value;
  const top = new TopAbsCollector(x, j, relu);
  const visitBlock = (b: number): void => {
    if (blocks[b]! < tau) return;
    for (let i = b * 16; i < b * 16 + 16; i++) top.visit(i);
  };
  // the blocks whose maximum is not below tau, 4 block maxima per SIMD test
  const nb4 = body(nBlocks);
  for (let o = k.notBelowBlock(blocks.byteOffset, 0, nb4 * 4, tau); o >= 0; o = k.notBelowBlock(blocks.byteOffset, o + 16, nb4 * 4, tau)) {
    for (let b = o >> 2; b < (o >> 2) + 4; b++) visitBlock(b);
  }
  for (let b = nb4; b < nBlocks; b++) visitBlock(b);
  for (let i = nBlocks * 16; i < n; i++) top.visit(i);
  return top.result();
}
