/**
 * WebAssembly SIMD loops for the quantizer kernels on the wasm backend. The module imports tfjs-backend-wasm's own
 * memory, so it reads and writes tensors in place (a pointer is a heap view's byteOffset). f32x4 arithmetic is
 * IEEE float32 (the bit-exact order of brevitas-semantics.md §3), `f32x4.nearest` rounds half to even, and
 * `f32x4.max/min` clamp like tfjs-wasm's ClipByValue (max(-0, 0) = +0).
 *
 * Each function handles a multiple of 4 elements (16 bytes); callers finish the tail in JS with the same rules.
 */
import { assemble, op, T, V, type ValType, type WasmFn } from '../../backend/wasm_asm.js';
import { HeapModule } from '../../backend/wasm_module.js';

export { wasmApi } from '../../backend/wasm_module.js';

const { get, set } = op;
const s = op.simd;
const lane = (v: number, i: number): number[] => [...get(v), ...s(V.f32x4Extract, i)];
const hmax = (v: number): number[] => [...lane(v, 0), ...lane(v, 1), ...op.f32Max, ...lane(v, 2), ...op.f32Max, ...lane(v, 3), ...op.f32Max];
const addr = (base: number, o: number): number[] => [...get(base), ...get(o), ...op.i32Add];
const splat = (src: number, dst: number): number[] => [...get(src), ...s(V.f32x4Splat), ...set(dst)];
/** loop while o < n (bytes), step 16: block loop (o >= n -> exit) body; o += 16; br 0 end end */
const loop16 = (o: number, n: number, body: number[]): number[] => [
  ...op.block, ...op.loop, ...get(o), ...get(n), ...op.i32GeU, ...op.brIf(1),
  ...body, ...get(o), ...op.i32(16), ...op.i32Add, ...set(o), ...op.br(0), ...op.end, ...op.end,
];
/**
 * Clamp of the v128 on the stack to [lo, hi] with the result of wasm's f32x4.max/min (IEEE: NaN propagates,
 * max(-0, +0) = +0) for grids with lo <= 0 < hi, but with the one-instruction pseudo-min/max: pmax(r, lo) =
 * r < lo ? lo : r keeps NaN and keeps -0, so `fix` (= +0 when lo is 0, else -0) is added: -0 + +0 = +0 exactly
 * where max(-0, +0) gives +0, and x + -0 = x for every other x; then pmin(q, hi) = hi < q ? hi : q. About 2x
 * faster than V8's NaN-exact max/min sequences. `fix` comes from `fixSplat`.
 */
const clamp = (lo: number, fix: number, hi: number): number[] => [
  ...get(lo), ...s(V.f32x4Pmax), ...get(fix), ...s(V.f32x4Add), ...get(hi), ...s(V.f32x4Pmin),
];
/** dst = splat(lo == 0 ? +0 : -0): the `fix` vector of `clamp`. */
const fixSplat = (lo: number, dst: number): number[] => [
  ...op.f32(0), ...op.f32(-0), ...get(lo), ...op.f32(0), ...op.f32Eq, ...op.select, ...s(V.f32x4Splat), ...set(dst),
];
/** clamp(nearest(v), lo, hi) of the v128 on the stack, with lo/fix/hi v128 locals. */
const roundClamp = (lo: number, fix: number, hi: number): number[] => [...s(V.f32x4Nearest), ...clamp(lo, fix, hi)];
/** i32x4.max_s: the max of non-negative floats (|x|) compared as their bit patterns (NaN above +Inf). */
const I32X4_MAX_S = 0xb8;
/** The largest lane of a v128 of non-negative floats, by bit pattern (two shuffles + i32 max), as an f32. */
const hmaxBits = (v: number): number[] => [
  ...get(v), ...get(v), ...get(v), ...s(V.shuffle, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7), ...s(I32X4_MAX_S), ...set(v),
  ...get(v), ...get(v), ...get(v), ...s(V.shuffle, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11), ...s(I32X4_MAX_S), ...s(V.f32x4Extract, 0),
];
/** acc0 += promote(low 2 lanes of p), acc1 += promote(high 2 lanes of p). */
const accumulate = (p: number, acc0: number, acc1: number): number[] => [
  ...get(acc0), ...get(p), ...s(V.f64x2PromoteLow), ...s(V.f64x2Add), ...set(acc0),
  ...get(acc1), ...get(p), ...get(p), ...s(V.shuffle, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7), ...s(V.f64x2PromoteLow), ...s(V.f64x2Add), ...set(acc1),
];
const sumAcc = (acc0: number, acc1: number): number[] => [
  ...get(acc0), ...s(V.f64x2Extract, 0), ...get(acc0), ...s(V.f64x2Extract, 1), ...op.f64Add,
  ...get(acc1), ...s(V.f64x2Extract, 0), ...op.f64Add, ...get(acc1), ...s(V.f64x2Extract, 1), ...op.f64Add,
];

/** relu of the v128 on the stack (f32x4.max with +0: -0 and negatives -> +0, NaN stays NaN). */
const reluTop = (relu: boolean): number[] => (relu ? [...op.vConstF32(0), ...s(V.f32x4Pmax), ...op.vConstF32(0), ...s(V.f32x4Add)] : []);

// fq(x, out, nBytes, s, lo, hi): out = clamp(nearest(x / s), lo, hi) * s   (fqInt: without "* s"; relu: x -> max(x, 0))
function fqFn(name: string, intOut: boolean, relu = false): WasmFn {
  const [x, out, n, sc, lo, hi, o, vs, vlo, vhi, vfix] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  return {
    name, params: [T.i32, T.i32, T.i32, T.f32, T.f32, T.f32], results: [], locals: [T.i32, T.v128, T.v128, T.v128, T.v128],
    body: [...splat(sc, vs), ...splat(lo, vlo), ...splat(hi, vhi), ...fixSplat(lo, vfix), ...loop16(o, n, [
      ...addr(out, o), ...addr(x, o), ...op.vLoad(), ...reluTop(relu), ...get(vs), ...s(V.f32x4Div), ...roundClamp(vlo, vfix, vhi),
      ...(intOut ? [] : [...get(vs), ...s(V.f32x4Mul)]), ...op.vStore(),
    ])],
  };
}

// fqGradMask(dy, x, dx, nBytes, s, lo, hi) -> sum dy*(inside ? q - y : q); dx = inside ? dy : 0
// relu (fqGradMaskRelu): y = max(x, 0) / s and dx = inside && x > 0 ? dy : 0
// plusZero (fqGradMaskZ, fqGradMaskReluZ): dx + +0 (-0 -> +0), as when tfjs adds a +0 gradient to dx
function fqGradMaskFn(relu = false, plusZero = false): WasmFn {
  const dy = 0, x = 1, dx = 2, n = 3, sc = 4, lo = 5, hi = 6, o = 7, vs = 8, vlo = 9, vhi = 10;
  const y = 11, r = 12, m = 13, q = 14, g = 15, p = 16, a0 = 17, a1 = 18, xv = 19, vfix = 20;
  const positive = relu ? [...get(xv), ...op.vConstF32(0), ...s(V.f32x4Gt), ...s(V.and)] : [];
  return {
    name: (relu ? 'fqGradMaskRelu' : 'fqGradMask') + (plusZero ? 'Z' : ''), params: [T.i32, T.i32, T.i32, T.i32, T.f32, T.f32, T.f32], results: [T.f64],
    locals: [T.i32, ...Array<ValType>(13).fill(T.v128)],
    body: [...splat(sc, vs), ...splat(lo, vlo), ...splat(hi, vhi), ...fixSplat(lo, vfix), ...loop16(o, n, [
      ...addr(x, o), ...op.vLoad(), ...set(xv), ...get(xv), ...reluTop(relu), ...get(vs), ...s(V.f32x4Div), ...set(y),
      ...get(y), ...s(V.f32x4Nearest), ...set(r),
      ...get(r), ...get(vlo), ...s(V.f32x4Ge), ...get(r), ...get(vhi), ...s(V.f32x4Le), ...s(V.and), ...set(m),
      ...get(r), ...clamp(vlo, vfix, vhi), ...set(q),
      ...addr(dy, o), ...op.vLoad(), ...set(g),
      ...addr(dx, o), ...get(g), ...get(m), ...positive, ...s(V.and), ...(plusZero ? [...op.vConstF32(0), ...s(V.f32x4Add)] : []), ...op.vStore(),
      ...get(g), ...get(q), ...get(y), ...s(V.f32x4Sub), ...get(q), ...get(m), ...s(V.bitselect), ...s(V.f32x4Mul), ...set(p),
      ...accumulate(p, a0, a1),
    ]), ...sumAcc(a0, a1)],
  };
}

// fqGradSte(dy, x, nBytes, s, lo, hi) -> sum dy*(q - y)
function fqGradSteFn(): WasmFn {
  const [dy, x, n, sc, lo, hi, o, vs, vlo, vhi, y, p, a0, a1, vfix] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
  return {
    name: 'fqGradSte', params: [T.i32, T.i32, T.i32, T.f32, T.f32, T.f32], results: [T.f64],
    locals: [T.i32, ...Array<ValType>(8).fill(T.v128)],
    body: [...splat(sc, vs), ...splat(lo, vlo), ...splat(hi, vhi), ...fixSplat(lo, vfix), ...loop16(o, n, [
      ...addr(x, o), ...op.vLoad(), ...get(vs), ...s(V.f32x4Div), ...set(y),
      ...addr(dy, o), ...op.vLoad(), ...get(y), ...roundClamp(vlo, vfix, vhi), ...get(y), ...s(V.f32x4Sub), ...s(V.f32x4Mul), ...set(p),
      ...accumulate(p, a0, a1),
    ]), ...sumAcc(a0, a1)],
  };
}

// fqGradSteCopy(dy, x, dw, nBytes, s, lo, hi) -> sum dy*(q - y); dw = dy (the STE gradient, copied in the same pass)
function fqGradSteCopyFn(): WasmFn {
  const [dy, x, dw, n, sc, lo, hi, o, vs, vlo, vhi, y, p, a0, a1, vfix, g] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
  return {
    name: 'fqGradSteCopy', params: [T.i32, T.i32, T.i32, T.i32, T.f32, T.f32, T.f32], results: [T.f64],
    locals: [T.i32, ...Array<ValType>(9).fill(T.v128)],
    body: [...splat(sc, vs), ...splat(lo, vlo), ...splat(hi, vhi), ...fixSplat(lo, vfix), ...loop16(o, n, [
      ...addr(x, o), ...op.vLoad(), ...get(vs), ...s(V.f32x4Div), ...set(y),
      ...addr(dy, o), ...op.vLoad(), ...set(g), ...addr(dw, o), ...get(g), ...op.vStore(),
      ...get(g), ...get(y), ...roundClamp(vlo, vfix, vhi), ...get(y), ...s(V.f32x4Sub), ...s(V.f32x4Mul), ...set(p),
      ...accumulate(p, a0, a1),
    ]), ...sumAcc(a0, a1)],
  };
}

/** v128.any_true. */
const V128_ANY_TRUE = 0x53;

// absEqBlock(x, startBytes, nBytes, m) -> first byte offset o (start <= o < n, step 16) whose 4 lanes hold some |x| == m, else -1
function absEqBlockFn(): WasmFn {
  const [x, o, n, m, vm] = [0, 1, 2, 3, 4];
  return {
    name: 'absEqBlock', params: [T.i32, T.i32, T.i32, T.f32], results: [T.i32], locals: [T.v128],
    body: [...splat(m, vm), ...op.block, ...op.loop, ...get(o), ...get(n), ...op.i32GeU, ...op.brIf(1),
      ...addr(x, o), ...op.vLoad(), ...s(V.f32x4Abs), ...get(vm), ...s(V.f32x4Eq), ...s(V128_ANY_TRUE),
      0x04, 0x40, ...get(o), ...op.ret, ...op.end,
      ...get(o), ...op.i32(16), ...op.i32Add, ...set(o), ...op.br(0), ...op.end, ...op.end, ...op.i32(-1)],
  };
}

// notBelowBlock(x, startBytes, nBytes, t) -> first byte offset o (start <= o < n, step 16) whose 4 lanes hold some
// !(x < t) (NaN included), else -1
function notBelowBlockFn(): WasmFn {
  const [x, o, n, t, vt] = [0, 1, 2, 3, 4];
  return {
    name: 'notBelowBlock', params: [T.i32, T.i32, T.i32, T.f32], results: [T.i32], locals: [T.v128],
    body: [...splat(t, vt), ...op.block, ...op.loop, ...get(o), ...get(n), ...op.i32GeU, ...op.brIf(1),
      ...addr(x, o), ...op.vLoad(), ...get(vt), ...s(V.f32x4Lt), ...s(V.not), ...s(V128_ANY_TRUE),
      0x04, 0x40, ...get(o), ...op.ret, ...op.end,
      ...get(o), ...op.i32(16), ...op.i32Add, ...set(o), ...op.br(0), ...op.end, ...op.end, ...op.i32(-1)],
  };
}

// Brevitas TruncAvgPool2d truncation (floor: r = floor(t) instead of nearest(t)):
// y = v / s; t = nearest(y) / ts; r = nearest(t); q = clamp(r, lo, hi)
const truncR = (floor: boolean, vs: number, vts: number): number[] => [
  ...get(vs), ...s(V.f32x4Div), ...s(V.f32x4Nearest), ...get(vts), ...s(V.f32x4Div), ...s(floor ? V.f32x4Floor : V.f32x4Nearest),
];

// truncFwd(v, out, nBytes, s, ts, lo, hi, sts): out = clamp(r, lo, hi) * sts   (sts = f32(s * ts))
function truncFwdFn(name: string, floor: boolean): WasmFn {
  const [v, out, n, sc, tsc, lo, hi, st, o, vs, vts, vlo, vhi, vst, vfix] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
  return {
    name, params: [T.i32, T.i32, T.i32, T.f32, T.f32, T.f32, T.f32, T.f32], results: [], locals: [T.i32, ...Array<ValType>(6).fill(T.v128)],
    body: [...splat(sc, vs), ...splat(tsc, vts), ...splat(lo, vlo), ...splat(hi, vhi), ...splat(st, vst), ...fixSplat(lo, vfix), ...loop16(o, n, [
      ...addr(out, o), ...addr(v, o), ...op.vLoad(), ...truncR(floor, vs, vts),
      ...clamp(vlo, vfix, vhi), ...get(vst), ...s(V.f32x4Mul), ...op.vStore(),
    ])],
  };
}

// truncGrad(dy, v, dv, nBytes, s, ts, lo, hi) -> sum dy*(inside ? q*ts - y : q*ts); dv = inside ? dy : 0
function truncGradFn(name: string, floor: boolean): WasmFn {
  const dy = 0, v = 1, dv = 2, n = 3, sc = 4, tsc = 5, lo = 6, hi = 7, o = 8, vs = 9, vts = 10, vlo = 11, vhi = 12;
  const y = 13, r = 14, m = 15, q = 16, g = 17, p = 18, a0 = 19, a1 = 20, vfix = 21;
  return {
    name, params: [T.i32, T.i32, T.i32, T.i32, T.f32, T.f32, T.f32, T.f32], results: [T.f64],
    locals: [T.i32, ...Array<ValType>(13).fill(T.v128)],
    body: [...splat(sc, vs), ...splat(tsc, vts), ...splat(lo, vlo), ...splat(hi, vhi), ...fixSplat(lo, vfix), ...loop16(o, n, [
      ...addr(v, o), ...op.vLoad(), ...get(vs), ...s(V.f32x4Div), ...set(y),
      ...get(y), ...s(V.f32x4Nearest), ...get(vts), ...s(V.f32x4Div), ...s(floor ? V.f32x4Floor : V.f32x4Nearest), ...set(r),
      ...get(r), ...get(vlo), ...s(V.f32x4Ge), ...get(r), ...get(vhi), ...s(V.f32x4Le), ...s(V.and), ...set(m),
      ...get(r), ...clamp(vlo, vfix, vhi), ...get(vts), ...s(V.f32x4Mul), ...set(q),
      ...addr(dy, o), ...op.vLoad(), ...set(g),
      ...addr(dv, o), ...get(g), ...get(m), ...s(V.and), ...op.vStore(),
      ...get(g), ...get(q), ...get(y), ...s(V.f32x4Sub), ...get(q), ...get(m), ...s(V.bitselect), ...s(V.f32x4Mul), ...set(p),
      ...accumulate(p, a0, a1),
    ]), ...sumAcc(a0, a1)],
  };
}

// relu(x, out, nBytes): out = max(x, +0)
function reluFn(): WasmFn {
  const [x, out, n, o] = [0, 1, 2, 3];
  return {
    name: 'relu', params: [T.i32, T.i32, T.i32], results: [], locals: [T.i32],
    body: loop16(o, n, [...addr(out, o), ...addr(x, o), ...op.vLoad(), ...reluTop(true), ...op.vStore()]),
  };
}

// absMax(x, nBytes) -> max |x|
function absMaxFn(): WasmFn {
  const [x, n, o, m] = [0, 1, 2, 3];
  return {
    name: 'absMax', params: [T.i32, T.i32], results: [T.f32], locals: [T.i32, T.v128],
    body: [...op.f32(0), ...s(V.f32x4Splat), ...set(m), ...loop16(o, n, [
      ...get(m), ...addr(x, o), ...op.vLoad(), ...s(V.f32x4Abs), ...s(I32X4_MAX_S), ...set(m),
    ]), ...hmax(m)],
  };
}

// absMaxBlocks(x, out, nBlocks): out[b] = max |x[16b .. 16b+15]|
// relu (absMaxBlocksRelu): max |relu(x)| (relu as `relu`: -0 -> +0, NaN kept), without a relu copy of x
function absMaxBlocksFn(relu = false): WasmFn {
  const [x, out, nb, b, v] = [0, 1, 2, 3, 4];
  const ab = (off: number): number[] => [...get(x), ...op.vLoad(off), ...reluTop(relu), ...s(V.f32x4Abs)];
  return {
    name: relu ? 'absMaxBlocksRelu' : 'absMaxBlocks', params: [T.i32, T.i32, T.i32], results: [], locals: [T.i32, T.v128],
    body: [...op.block, ...op.loop, ...get(b), ...get(nb), ...op.i32GeU, ...op.brIf(1),
      ...ab(0), ...ab(16), ...s(I32X4_MAX_S), ...ab(32), ...ab(48), ...s(I32X4_MAX_S), ...s(I32X4_MAX_S), ...set(v),
      ...get(out), ...hmaxBits(v), 0x38, 2, 0,
      ...get(x), ...op.i32(64), ...op.i32Add, ...set(x), ...get(out), ...op.i32(4), ...op.i32Add, ...set(out),
      ...get(b), ...op.i32(1), ...op.i32Add, ...set(b), ...op.br(0), ...op.end, ...op.end],
  };
}

// absEqFirst(x, start, n, m) -> first i in [start, n) with |x[i]| == m, else -1
function absEqFirstFn(): WasmFn {
  const [x, i, n, m] = [0, 1, 2, 3];
  return {
    name: 'absEqFirst', params: [T.i32, T.i32, T.i32, T.f32], results: [T.i32], locals: [],
    body: [...op.block, ...op.loop, ...get(i), ...get(n), ...op.i32GeU, ...op.brIf(1),
      ...get(x), ...get(i), ...op.i32(2), ...op.i32Shl, ...op.i32Add, ...op.f32Load(), ...op.f32Abs, ...get(m), ...op.f32Eq,
      0x04, 0x40, ...get(i), ...op.ret, ...op.end,
      ...get(i), ...op.i32(1), ...op.i32Add, ...set(i), ...op.br(0), ...op.end, ...op.end, ...op.i32(-1)],
  };
}

/** The exported SIMD functions (pointers are byte offsets into the tfjs wasm heap; sizes in bytes or blocks). */
export interface SimdExports {
  fq(x: number, out: number, nBytes: number, s: number, lo: number, hi: number): void;
  fqInt(x: number, out: number, nBytes: number, s: number, lo: number, hi: number): void;
  fqGradMask(dy: number, x: number, dx: number, nBytes: number, s: number, lo: number, hi: number): number;
  fqRelu(x: number, out: number, nBytes: number, s: number, lo: number, hi: number): void;
  fqIntRelu(x: number, out: number, nBytes: number, s: number, lo: number, hi: number): void;
  fqGradMaskRelu(dy: number, x: number, dx: number, nBytes: number, s: number, lo: number, hi: number): number;
  fqGradMaskZ(dy: number, x: number, dx: number, nBytes: number, s: number, lo: number, hi: number): number;
  fqGradMaskReluZ(dy: number, x: number, dx: number, nBytes: number, s: number, lo: number, hi: number): number;
  fqGradSte(dy: number, x: number, nBytes: number, s: number, lo: number, hi: number): number;
  fqGradSteCopy(dy: number, x: number, dw: number, nBytes: number, s: number, lo: number, hi: number): number;
  absEqBlock(x: number, startBytes: number, nBytes: number, m: number): number;
  notBelowBlock(x: number, startBytes: number, nBytes: number, t: number): number;
  absMax(x: number, nBytes: number): number;
  relu(x: number, out: number, nBytes: number): void;
  absMaxBlocks(x: number, out: number, nBlocks: number): void;
  absMaxBlocksRelu(x: number, out: number, nBlocks: number): void;
  absEqFirst(x: number, start: number, n: number, m: number): number;
  truncFwdRound(v: number, out: number, nBytes: number, s: number, ts: number, lo: number, hi: number, sts: number): void;
  truncFwdFloor(v: number, out: number, nBytes: number, s: number, ts: number, lo: number, hi: number, sts: number): void;
  truncGradRound(dy: number, v: number, dv: number, nBytes: number, s: number, ts: number, lo: number, hi: number): number;
  truncGradFloor(dy: number, v: number, dv: number, nBytes: number, s: number, ts: number, lo: number, hi: number): number;
}

/** The module (exported for diagnostics: `simdModule.compileError`). */
export const simdModule = new HeapModule<SimdExports>(assemble([fqFn('fq', false), fqFn('fqInt', true), fqGradMaskFn(), fqGradSteFn(),
  fqFn('fqRelu', false, true), fqFn('fqIntRelu', true, true), fqGradMaskFn(true), reluFn(), absMaxFn(), absMaxBlocksFn(),
  absEqFirstFn(), truncFwdFn('truncFwdRound', false), truncFwdFn('truncFwdFloor', true), truncGradFn('truncGradRound', false),
  truncGradFn('truncGradFloor', true), fqGradSteCopyFn(), absEqBlockFn(), fqGradMaskFn(false, true), fqGradMaskFn(true, true), notBelowBlockFn(), absMaxBlocksFn(true)]));

/** The SIMD functions bound to `memory` (a WebAssembly.Memory: the wasm backend's), or null without wasm SIMD. */
export function simdFor(memory: object): SimdExports | null {
  return simdModule.forMemory(memory);
}
