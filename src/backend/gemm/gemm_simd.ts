/**
 * The float32 GEMM of the wasm backend's matmul kernels as one WebAssembly SIMD module (assembled with
 * wasm_asm.ts) importing a SHARED memory, so the main thread and a worker thread run the same code on the same
 * operands. C (M x N, row stride `ldc`, padded to a multiple of 8 columns) = A (M x K) B (K x N) + bias, then
 * max(., lo) (lo = 0 for relu, -Infinity for linear).
 *
 * A is read in place through (row stride, k stride), so A or A^T need no packing; B is packed per panel of 8
 * columns (k-major, zero-padded) by `pack`, which reads B or B^T through (k stride, column stride). The micro-kernel
 * `kern_<mode><mr>` keeps an mr x 8 block of C in 2*mr f32x4 accumulators and adds one product per k (f32x4.mul then
 * f32x4.add, no fused multiply-add), so every element of C is the same k-ordered float32 sum whatever mr, the
 * chunking or the thread that computes it: results do not depend on the thread count.
 *
 * `chunk(c, tid)` computes work item c of the job described in the header (see {@link HDR}) with thread tid's
 * packing buffer; both threads claim items from an atomic counter (gemm_pool.ts).
 */
import { assemble, op, T, V, type ValType, type WasmFn } from '../wasm_asm.js';

const { get, set } = op;
const s = op.simd;

/** Rows of the main micro-kernel. */
export const MR = 4;
/** Columns of a B panel (two f32x4). */
export const NR = 8;

/** Byte offsets of the job header in the shared memory (the first 64 bytes are the pool's control words). */
export const HDR = {
  pA: 64, sam: 68, sak: 72, pB: 76, sbk: 80, sbn: 84, M: 88, N: 92, K: 96, pC: 100, ldc: 104, pBias: 108,
  /** f32: lower clamp of the output (0 = relu, -Infinity = linear). */
  lo: 112,
  /** Panels of 8 columns per work item. */
  ppc: 116,
  pPack: 120, packStride: 124, nPanels: 128,
  /** Rows per work item (a multiple of MR) and row blocks per panel group. */
  rpc: 132, nRowBlocks: 136,
  /** Index in A_MODES of the micro-kernel family. */
  amode: 140,
} as const;
/** Bytes reserved for the control words + header. */
export const HEADER_BYTES = 256;

const hdr = (off: number): number[] => [...op.i32(0), ...op.i32Load(off)];
const i32c = op.i32;
/** a := a + b (locals). */
const addTo = (a: number, b: number): number[] => [...get(a), ...get(b), ...op.i32Add, ...set(a)];
/** min of two i32 on the stack-producing snippets. */
const minI = (x: number[], y: number[]): number[] => [...x, ...y, ...x, ...y, ...op.i32LtS, ...op.select];
/** while (i < n) { body } with locals i, n (body may not branch out). */
const whileLt = (i: number, n: number, body: number[]): number[] => [
  ...op.block, ...op.loop, ...get(i), ...get(n), ...op.i32GeS, ...op.brIf(1), ...body, ...op.br(0), ...op.end, ...op.end,
];

/** f32 lanes of i8x16.shuffle(a, b): lane indices 0..3 pick a, 4..7 pick b. */
const shuffleF32 = (l: readonly number[]): number[] => s(V.shuffle, ...l.flatMap((x) => [4 * x, 4 * x + 1, 4 * x + 2, 4 * x + 3]));

// pack(src, sbk, sbn, K, ncols, dst): dst[k*8 + j] = j < ncols ? src[k*sbk + j*sbn] : 0   (strides in bytes)
function packFn(): WasmFn {
  const [src, sbk, sbn, K, ncols, dst, j, k, p, q, end, k0] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const o = (r: number): number => 11 + r; // o1..o7 = r * sbn
  const rv = (r: number): number => 19 + r; // r0..r7 (v128)
  const tv = (r: number): number => 27 + r; // t0..t3
  const locals: ValType[] = [...Array<ValType>(13).fill(T.i32), ...Array<ValType>(12).fill(T.v128)];
  const fastRows = [ // ncols == 8 and sbn == 4: two f32x4 per k
    ...get(dst), ...get(K), ...i32c(32), ...op.i32Mul, ...op.i32Add, ...set(end),
    ...op.loop,
    ...get(dst), ...get(src), ...op.vLoad(0), ...op.vStore(0),
    ...get(dst), ...get(src), ...op.vLoad(16), ...op.vStore(16),
    ...addTo(src, sbk), ...get(dst), ...i32c(32), ...op.i32Add, ...set(dst),
    ...get(dst), ...get(end), ...op.i32LtU, ...op.brIf(0), ...op.end,
  ];
  // ncols == 8 and sbk == 4 (B^T): 4 k at a time, two 4x4 transposes; the K % 4 tail goes to the generic loop
  const transposeHalf = (r0: number, qOff: number): number[] => [
    ...get(rv(r0)), ...get(rv(r0 + 1)), ...shuffleF32([0, 4, 1, 5]), ...set(tv(0)),
    ...get(rv(r0)), ...get(rv(r0 + 1)), ...shuffleF32([2, 6, 3, 7]), ...set(tv(1)),
    ...get(rv(r0 + 2)), ...get(rv(r0 + 3)), ...shuffleF32([0, 4, 1, 5]), ...set(tv(2)),
    ...get(rv(r0 + 2)), ...get(rv(r0 + 3)), ...shuffleF32([2, 6, 3, 7]), ...set(tv(3)),
    ...get(q), ...get(tv(0)), ...get(tv(2)), ...shuffleF32([0, 1, 4, 5]), ...op.vStore(qOff),
    ...get(q), ...get(tv(0)), ...get(tv(2)), ...shuffleF32([2, 3, 6, 7]), ...op.vStore(qOff + 32),
    ...get(q), ...get(tv(1)), ...get(tv(3)), ...shuffleF32([0, 1, 4, 5]), ...op.vStore(qOff + 64),
    ...get(q), ...get(tv(1)), ...get(tv(3)), ...shuffleF32([2, 3, 6, 7]), ...op.vStore(qOff + 96),
  ];
  const fastCols: number[] = [...get(K), ...i32c(-4), ...op.i32And, ...set(k0)];
  for (let r = 1; r < NR; r++) fastCols.push(...get(sbn), ...i32c(r), ...op.i32Mul, ...set(o(r)));
  fastCols.push(...get(src), ...set(p), ...get(dst), ...set(q), ...get(dst), ...get(k0), ...i32c(32), ...op.i32Mul, ...op.i32Add, ...set(end),
    ...op.block, ...get(q), ...get(end), ...op.i32GeU, ...op.brIf(0), ...op.loop);
  for (let r = 0; r < NR; r++) fastCols.push(...get(p), ...(r === 0 ? [] : [...get(o(r)), ...op.i32Add]), ...op.vLoad(0), ...set(rv(r)));
  fastCols.push(...transposeHalf(0, 0), ...transposeHalf(4, 16),
    ...get(p), ...i32c(16), ...op.i32Add, ...set(p), ...get(q), ...i32c(128), ...op.i32Add, ...set(q),
    ...get(q), ...get(end), ...op.i32LtU, ...op.brIf(0), ...op.end, ...op.end);
  // generic, from k0: for j in 0..8: p = src + j*sbn + k0*sbk; q = dst + 4j + 32*k0; for k: store(q, j < ncols ? load(p) : 0)
  const generic = [
    ...op.block, ...op.loop, ...get(j), ...i32c(NR), ...op.i32GeS, ...op.brIf(1),
    ...get(src), ...get(j), ...get(sbn), ...op.i32Mul, ...op.i32Add, ...get(k0), ...get(sbk), ...op.i32Mul, ...op.i32Add, ...set(p),
    ...get(dst), ...get(j), ...i32c(4), ...op.i32Mul, ...op.i32Add, ...get(k0), ...i32c(32), ...op.i32Mul, ...op.i32Add, ...set(q),
    ...get(k0), ...set(k),
    ...get(j), ...get(ncols), ...op.i32LtS, ...op.if,
    ...whileLt(k, K, [...get(q), ...get(p), ...op.f32Load(), ...op.f32Store(), ...addTo(p, sbk), ...get(q), ...i32c(32), ...op.i32Add, ...set(q),
      ...get(k), ...i32c(1), ...op.i32Add, ...set(k)]),
    ...op.else,
    ...whileLt(k, K, [...get(q), ...op.f32(0), ...op.f32Store(), ...get(q), ...i32c(32), ...op.i32Add, ...set(q),
      ...get(k), ...i32c(1), ...op.i32Add, ...set(k)]),
    ...op.end,
    ...get(j), ...i32c(1), ...op.i32Add, ...set(j), ...op.br(0), ...op.end, ...op.end,
  ];
  const full = [...get(ncols), ...i32c(NR), ...op.i32Eq];
  return {
    name: 'pack', params: [T.i32, T.i32, T.i32, T.i32, T.i32, T.i32], results: [], locals,
    body: [
      ...full, ...get(sbn), ...i32c(4), ...op.i32Eq, ...op.i32And, ...op.if, ...fastRows, ...op.ret, ...op.end,
      ...full, ...get(sbk), ...i32c(4), ...op.i32Eq, ...op.i32And, ...op.if, ...fastCols, ...op.end,
      ...generic,
    ],
  };
}

// packA(src, m, k, dst): A^T (K x M, row-major) to blocks of 4 rows of A, k-major: dst[(j*K + q)*4 + r] = A^T[q, 4j + r]
// (a last block of fewer than 4 rows holds whatever follows A^T's rows in memory in its unused lanes)
function packAFn(): WasmFn {
  const [src, m, K, dst, rs, p, end, jEnd] = [0, 1, 2, 3, 4, 5, 6, 7];
  return {
    name: 'packA', params: [T.i32, T.i32, T.i32, T.i32], results: [], locals: Array<ValType>(4).fill(T.i32),
    body: [
      ...get(m), ...i32c(4), ...op.i32Mul, ...set(rs),
      ...get(src), ...get(m), ...i32c(3), ...op.i32Add, ...i32c(-4), ...op.i32And, ...i32c(4), ...op.i32Mul, ...op.i32Add, ...set(jEnd),
      // for each block start s in [src, jEnd) step 16: for q in 0..K: store(dst, load(s + q*rs)); dst += 16
      ...op.block, ...get(src), ...get(jEnd), ...op.i32GeU, ...op.brIf(0), ...op.loop,
      ...get(src), ...set(p), ...get(dst), ...get(K), ...i32c(16), ...op.i32Mul, ...op.i32Add, ...set(end),
      ...op.loop,
      ...get(dst), ...get(p), ...op.vLoad(0), ...op.vStore(0),
      ...addTo(p, rs), ...get(dst), ...i32c(16), ...op.i32Add, ...set(dst),
      ...get(dst), ...get(end), ...op.i32LtU, ...op.brIf(0), ...op.end,
      ...get(src), ...i32c(16), ...op.i32Add, ...set(src),
      ...get(src), ...get(jEnd), ...op.i32LtU, ...op.brIf(0), ...op.end, ...op.end,
    ],
  };
}

/** How a micro-kernel walks A: one pointer per row (any strides), or one pointer + row offsets (A^T: row stride 4). */
export type AMode = 'row' | 'col';
/** Header value of each A mode (its index). */
export const A_MODES: readonly AMode[] = ['row', 'col'];

// kern<mode><mr>(pA, sam, sak, pB, K, pC, ldc, pBias, lo): C[r, 0..8] = max(sum_k A[r, k] * Bp[k, 0..8] + bias, lo)
function kernFn(mr: number, mode: AMode): WasmFn {
  const [pA, sam, sak, pB, K, pC, ldc, pBias, lo] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const end = 9;
  const a = (r: number): number => (r === 0 ? pA : 9 + r); // row pointers a1.. at 10..
  const acc0 = 10 + (mr - 1);
  const acc = (r: number, h: number): number => acc0 + 2 * r + h;
  const b0 = acc0 + 2 * mr, b1 = b0 + 1, av = b0 + 2, vlo = b0 + 3;
  const locals: ValType[] = [T.i32, ...Array<ValType>(mr - 1).fill(T.i32), ...Array<ValType>(2 * mr + 4).fill(T.v128)];
  /** One k step: the B row at pB, A[r, k] from aLoad(r). */
  const step = (aLoad: (r: number) => number[]): number[] => {
    const out = [...get(pB), ...op.vLoad(0), ...set(b0), ...get(pB), ...op.vLoad(16), ...set(b1)];
    for (let r = 0; r < mr; r++) {
      out.push(...aLoad(r), ...set(av),
        ...get(acc(r, 0)), ...get(av), ...get(b0), ...s(V.f32x4Mul), ...s(V.f32x4Add), ...set(acc(r, 0)),
        ...get(acc(r, 1)), ...get(av), ...get(b1), ...s(V.f32x4Mul), ...s(V.f32x4Add), ...set(acc(r, 1)));
    }
    return out;
  };
  const bump = (x: number, by: number[]): number[] => [...get(x), ...by, ...op.i32Add, ...set(x)];
  const body: number[] = [...get(pB), ...get(K), ...i32c(32), ...op.i32Mul, ...op.i32Add, ...set(end)];
  // do { step; pB += 32 } while (pB < end)   (K >= 1). Unrolling k does not help: TurboFan then hoists the loads
  // of all steps and spills accumulators.
  const kLoop = (inner: number[]): number[] => [
    ...op.loop, ...inner, ...bump(pB, i32c(32)), ...get(pB), ...get(end), ...op.i32LtU, ...op.brIf(0), ...op.end,
  ];
  if (mode === 'row') {
    for (let r = 1; r < mr; r++) body.push(...get(a(r - 1)), ...get(sam), ...op.i32Add, ...set(a(r)));
    body.push(...kLoop([...step((r) => [...get(a(r)), ...op.vLoadSplat()]), ...Array.from({ length: mr }, (_, r) => bump(a(r), get(sak))).flat()]));
  } else {
    body.push(...kLoop([...step((r) => [...get(pA), ...op.vLoadSplat(4 * r)]), ...bump(pA, get(sak))]));
  }
  // epilogue
  body.push(...get(lo), ...s(V.f32x4Splat), ...set(vlo), ...get(pBias), ...op.vLoad(0), ...set(b0), ...get(pBias), ...op.vLoad(16), ...set(b1));
  for (let r = 0; r < mr; r++) {
    body.push(...get(pC), ...get(acc(r, 0)), ...get(b0), ...s(V.f32x4Add), ...get(vlo), ...s(V.f32x4Max), ...op.vStore(0),
      ...get(pC), ...get(acc(r, 1)), ...get(b1), ...s(V.f32x4Add), ...get(vlo), ...s(V.f32x4Max), ...op.vStore(16));
    if (r + 1 < mr) body.push(...addTo(pC, ldc));
  }
  return { name: `kern_${mode}${mr}`, params: [T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.f32], results: [], locals, body };
}

// chunk(c, tid): work item c = (panel group c / nRowBlocks, row block c % nRowBlocks)
function chunkFn(fPack: number, fKern: (mr: number, mode: AMode) => number, mrMax: number): WasmFn {
  const [c, tid, p, p1, buf, n0, i, i1, aP, cP, bi, rem, ncols] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const args = [
    ...get(aP), ...hdr(HDR.sam), ...hdr(HDR.sak), ...get(buf), ...hdr(HDR.K), ...get(cP), ...hdr(HDR.ldc), ...get(bi),
    ...i32c(0), ...op.f32Load(HDR.lo),
  ];
  const kcall = (mr: number): number[] => [
    ...hdr(HDR.amode), ...op.if, ...args, ...op.call(fKern(mr, 'col')), ...op.else, ...args, ...op.call(fKern(mr, 'row')), ...op.end,
  ];
  const remainder: number[] = [];
  for (let r = 1; r < mrMax; r++) remainder.push(...get(rem), ...i32c(r), ...op.i32Eq, ...op.if, ...kcall(r), ...op.end);
  const body: number[] = [
    ...get(c), ...hdr(HDR.nRowBlocks), 0x6e /* i32.div_u */, ...hdr(HDR.ppc), ...op.i32Mul, ...set(p),
    ...minI([...get(p), ...hdr(HDR.ppc), ...op.i32Add], hdr(HDR.nPanels)), ...set(p1),
    ...hdr(HDR.pPack), ...get(tid), ...hdr(HDR.packStride), ...op.i32Mul, ...op.i32Add, ...set(buf),
    ...whileLt(p, p1, [
      ...get(p), ...i32c(NR), ...op.i32Mul, ...set(n0),
      ...minI(i32c(NR), [...hdr(HDR.N), ...get(n0), ...op.i32Sub]), ...set(ncols),
      ...hdr(HDR.pB), ...get(n0), ...hdr(HDR.sbn), ...op.i32Mul, ...op.i32Add, ...hdr(HDR.sbk), ...hdr(HDR.sbn), ...hdr(HDR.K), ...get(ncols), ...get(buf),
      ...op.call(fPack),
      ...get(c), ...hdr(HDR.nRowBlocks), 0x70 /* i32.rem_u */, ...hdr(HDR.rpc), ...op.i32Mul, ...set(i),
      ...minI([...get(i), ...hdr(HDR.rpc), ...op.i32Add], hdr(HDR.M)), ...set(i1),
      ...hdr(HDR.pA), ...get(i), ...hdr(HDR.sam), ...op.i32Mul, ...op.i32Add, ...set(aP),
      ...hdr(HDR.pC), ...get(i), ...hdr(HDR.ldc), ...op.i32Mul, ...op.i32Add, ...get(n0), ...i32c(4), ...op.i32Mul, ...op.i32Add, ...set(cP),
      ...hdr(HDR.pBias), ...get(n0), ...i32c(4), ...op.i32Mul, ...op.i32Add, ...set(bi),
      ...get(i1), ...i32c(mrMax), ...op.i32Sub, ...set(rem), // full blocks while i <= i1 - mrMax
      ...op.block, ...op.loop, ...get(i), ...get(rem), ...op.i32GtS, ...op.brIf(1),
      ...kcall(mrMax),
      ...get(aP), ...hdr(HDR.sam), ...i32c(mrMax), ...op.i32Mul, ...op.i32Add, ...set(aP),
      ...get(cP), ...hdr(HDR.ldc), ...i32c(mrMax), ...op.i32Mul, ...op.i32Add, ...set(cP),
      ...get(i), ...i32c(mrMax), ...op.i32Add, ...set(i), ...op.br(0), ...op.end, ...op.end,
      ...get(i1), ...get(i), ...op.i32Sub, ...set(rem),
      ...remainder,
      ...get(p), ...i32c(1), ...op.i32Add, ...set(p),
    ]),
  ];
  return { name: 'chunk', params: [T.i32, T.i32], results: [], locals: Array<ValType>(11).fill(T.i32), body };
}

/** The exports of the GEMM module (pointers and strides in bytes). */
export interface GemmExports {
  /** Compute work item `c` of the job in the header with thread `tid`'s packing buffer. */
  chunk(c: number, tid: number): void;
  /** Pack up to 8 columns of B (k stride sbk, column stride sbn) into a zero-padded k-major panel. */
  pack(src: number, sbk: number, sbn: number, K: number, ncols: number, dst: number): void;
  /** Repack A^T (K x M) into k-major blocks of 4 rows of A (read by the 'col' kernels with a k stride of 16 bytes). */
  packA(src: number, m: number, k: number, dst: number): void;
}

/**
 * The GEMM module's bytes, importing a shared memory with the given page limits; `mrMax` rows in the main
 * micro-kernel (other values than MR are for experiments: 5 and 6 measured slower, 3 no faster).
 */
export function gemmModuleBytes(minPages: number, maxPages: number, mrMax = MR): Uint8Array {
  const fns: WasmFn[] = [packFn()];
  for (const mode of A_MODES) for (let mr = 1; mr <= mrMax; mr++) fns.push(kernFn(mr, mode));
  fns.push(chunkFn(0, (mr, mode) => 1 + A_MODES.indexOf(mode) * mrMax + mr - 1, mrMax), packAFn());
  return assemble(fns, { shared: { minPages, maxPages } });
}
