/**
 * Shared pieces of the WebAssembly SIMD convolution-gradient loops (wasm_conv_grad_filter.ts,
 * wasm_conv_grad_input.ts): a zero-padding copy over the tfjs heap, a cache of shape-specialized modules, and small
 * instruction helpers. The gradient loops are generated per shape (channel counts, kernel size, strides, row
 * widths are immediates), so every address is a base pointer plus a constant offset.
 */
import { assemble, op, T, V, type ValType, type WasmFn } from '../wasm_asm.js';
import { HeapModule } from '../wasm_module.js';

const { get, set } = op;
const s = op.simd;

/** `local += c` (i32). */
export const addTo = (l: number, c: number): number[] => [...get(l), ...op.i32(c), ...op.i32Add, ...set(l)];
/** `acc = acc + a * b` on f32x4 locals. */
export const fma = (acc: number, a: number, b: number): number[] =>
  [...get(acc), ...get(a), ...get(b), ...s(V.f32x4Mul), ...s(V.f32x4Add), ...set(acc)];
/** A v128 local set to zero. */
export const zero = (l: number): number[] => [...op.vConstF32(0), ...set(l)];
/** `do { body } while (--counter != 0)` (the counter must start > 0). */
export const countDown = (counter: number, body: number[]): number[] =>
  [...op.loop, ...body, ...get(counter), ...op.i32(1), ...op.i32Sub, ...op.tee(counter), ...op.brIf(0), ...op.end];
/** Zero `len` bytes (a multiple of 4) at local `p`, advancing p; `k` is a scratch i32 local. */
const fillZero = (p: number, len: number[], k: number): number[] => [
  ...len, ...set(k),
  ...op.block, ...op.loop, ...get(k), ...op.i32(16), ...op.i32LtU, ...op.brIf(1),
  ...get(p), ...op.vConstF32(0), ...op.vStore(), ...addTo(p, 16), ...addTo(k, -16), ...op.br(0), ...op.end, ...op.end,
  ...op.block, ...op.loop, ...get(k), ...op.i32Eqz, ...op.brIf(1),
  ...get(p), ...op.i32(0), ...op.i32Store(), ...addTo(p, 4), ...addTo(k, -4), ...op.br(0), ...op.end, ...op.end,
];
/** Copy `len` bytes (a multiple of 4) from local `q` to local `p`, advancing both; `k` is a scratch i32 local. */
const copyBytes = (p: number, q: number, len: number[], k: number): number[] => [
  ...len, ...set(k),
  ...op.block, ...op.loop, ...get(k), ...op.i32(16), ...op.i32LtU, ...op.brIf(1),
  ...get(p), ...get(q), ...op.vLoad(), ...op.vStore(), ...addTo(p, 16), ...addTo(q, 16), ...addTo(k, -16), ...op.br(0), ...op.end, ...op.end,
  ...op.block, ...op.loop, ...get(k), ...op.i32Eqz, ...op.brIf(1),
  ...get(p), ...get(q), ...op.i32Load(), ...op.i32Store(), ...addTo(p, 4), ...addTo(q, 4), ...addTo(k, -4), ...op.br(0), ...op.end, ...op.end,
];

/** How one padded axis is filled: `before` zeros, `count` source items from `srcStart`, then `after` zeros. */
export interface AxisPad {
  readonly before: number;
  readonly srcStart: number;
  readonly count: number;
  readonly after: number;
}

/** dst[i] = src[i − offset] where 0 ≤ i − offset < srcLen, else 0, for i in [0, dstLen). */
export function axisPad(srcLen: number, dstLen: number, offset: number): AxisPad {
  const before = Math.min(Math.max(offset, 0), dstLen);
  const srcStart = Math.max(0, -offset);
  const count = Math.max(0, Math.min(srcLen - srcStart, dstLen - before));
  return { before, srcStart, count, after: dstLen - before - count };
}

// pad(src, dst, n, srcImgBytes, srcRowBytes, headBytes, rows, midBytes, gapBytes, tailBytes):
// per image: zero headBytes; then `rows` times: copy midBytes from the source row, zero gapBytes (not after the
// last row); zero tailBytes; the source advances srcRowBytes per row and srcImgBytes per image.
function padFn(): WasmFn {
  const [src, dst, n, srcImg, srcRow, head, rows, mid, gap, tail, p, q, r, k, q0] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
  return {
    name: 'pad', params: Array<ValType>(10).fill(T.i32), results: [], locals: Array<ValType>(5).fill(T.i32),
    body: [...get(dst), ...set(p), ...countDown(n, [
      ...fillZero(p, get(head), k), ...get(src), ...set(q0), ...get(rows), ...set(r),
      ...countDown(r, [
        ...get(q0), ...set(q), ...copyBytes(p, q, get(mid), k), ...addTo0(q0, srcRow),
        ...get(r), ...op.i32(1), ...op.i32GtU, ...op.if, ...fillZero(p, get(gap), k), ...op.end,
      ]),
      ...fillZero(p, get(tail), k), ...addTo0(src, srcImg),
    ])],
  };
}

/** `a += b` for i32 locals. */
const addTo0 = (a: number, b: number): number[] => [...get(a), ...get(b), ...op.i32Add, ...set(a)];

interface PadExports {
  pad(src: number, dst: number, n: number, srcImg: number, srcRow: number, head: number, rows: number, mid: number,
    gap: number, tail: number): void;
}

const padModule = new HeapModule<PadExports>(assemble([padFn()]));

/** NHWC image geometry (per image). */
export interface Geometry {
  readonly h: number;
  readonly w: number;
  readonly c: number;
}

/**
 * Zero-padded copy of `n` NHWC images on the heap: dst[b, r, q, :] = src[b, r − top, q − left, :] where inside,
 * else 0 (negative offsets crop). Returns false when the heap module is unavailable or nothing would be copied.
 */
export function padImages(
  backend: unknown, src: number, srcG: Geometry, dst: number, dstG: Geometry, n: number, top: number, left: number,
): boolean {
  const m = padModule.bind(backend);
  if (m === null) return false;
  const rows = axisPad(srcG.h, dstG.h, top);
  const cols = axisPad(srcG.w, dstG.w, left);
  if (rows.count === 0 || cols.count === 0 || n === 0) return false;
  const cb = dstG.c * 4;
  const srcRow = srcG.w * cb;
  const dstRow = dstG.w * cb;
  m.pad(src + rows.srcStart * srcRow + cols.srcStart * cb, dst, n, srcG.h * srcRow, srcRow,
    rows.before * dstRow + cols.before * cb, rows.count, cols.count * cb, (cols.after + cols.before) * cb,
    cols.after * cb + rows.after * dstRow);
  return true;
}

/** Images per chunk so that one chunk of `imageFloats` floats stays in cache (64 KiB), at least 1, at most n. */
export function chunkImages(imageFloats: number, n: number): number {
  return Math.max(1, Math.min(n, Math.floor(16384 / Math.max(1, imageFloats))));
}

/** Compiled modules by shape key (bounded: cleared when it grows past 64 shapes). */
export class ModuleCache<E> {
  private readonly modules = new Map<string, HeapModule<E>>();

  /** The module for `key`, built by `build` on first use, bound to the backend's heap (null without SIMD). */
  bind(key: string, backend: unknown, build: () => readonly WasmFn[]): E | null {
    let m = this.modules.get(key);
    if (m === undefined) {
      if (this.modules.size >= 64) this.modules.clear();
      m = new HeapModule<E>(assemble(build()));
      this.modules.set(key, m);
    }
    return m.bind(backend);
  }
}

/** Horizontal sum of the f32x4 local `v` (lanes (0+1)+(2+3)) onto the stack as an f32. */
export const hsum = (v: number): number[] => [
  ...get(v), ...s(V.f32x4Extract, 0), ...get(v), ...s(V.f32x4Extract, 1), ...op.f32Add,
  ...get(v), ...s(V.f32x4Extract, 2), ...get(v), ...s(V.f32x4Extract, 3), ...op.f32Add, ...op.f32Add,
];
