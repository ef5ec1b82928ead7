/**
 * Conv2DBackpropFilter (NHWC, float32, dilation 1) as a shape-specialized WebAssembly SIMD loop over the tfjs heap:
 *
 *   dW[kh,kw,ci,co] = Σ_{n,oh,ow} xp[n, oh·sh+kh, ow·sw+kw, ci] · dy[n,oh,ow,co]
 *
 * over a zero-padded copy `xp` of x (no border branches). dW is seen as a matrix of M = KH·KW·Cin rows (tap, ci) by
 * Cout columns; a register tile of R rows × up to 4 column vectors (f32x4) runs over one output row of pixels:
 * per pixel it loads the dy vectors once, splats R x values and multiply-adds. Accuracy: each tile's row sum (≤ OW
 * terms) is added into a float32 per-image accumulator, which is folded into float64 after every image, so no
 * float32 sum runs over more than max(OW, OH) terms.
 */
import { op, T, V, type ValType, type WasmFn } from '../wasm_asm.js';
import { addTo, countDown, fma, ModuleCache, padImages, zero } from './wasm_conv_grad_simd.js';

const { get, set } = op;
const s = op.simd;

/** Shape of one filter-gradient problem (per image; the batch size is a call argument). */
export interface FilterGradShape {
  readonly cin: number;
  readonly cout: number;
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  /** dy height and width. */
  readonly oh: number;
  readonly ow: number;
}

/** Padded x height and width read by the loop: (O−1)·s + K. */
export function paddedInput(g: FilterGradShape): { hp: number; wp: number } {
  return { hp: (g.oh - 1) * g.sh + g.kh, wp: (g.ow - 1) * g.sw + g.kw };
}

/** Code-generation knobs (for tuning). */
export interface FilterGradTuning {
  /** The register tile: accumulator vectors per tile (rows × column vectors). @default 8 */
  readonly tile: number;
  /** Pixels per float32 register sum (whole dy rows; at least one row). @default 128 */
  readonly block: number;
  /** Pixels per loop iteration. @default 1 */
  readonly unroll: number;
  /** Column vectors (4 output channels each) per tile, at most 4. @default 4 */
  readonly cols: number;
  /** Run the tiles of one column chunk as a loop (when the tile's rows divide Cin) instead of unrolled code. @default true */
  readonly loopGroups: boolean;
}

const DEFAULT_TUNING: FilterGradTuning = { tile: 8, block: 128, unroll: 1, cols: 4, loopGroups: true };

/** Tiles emitted as straight-line code for this shape (a column chunk whose tiles run as a loop counts 1). */
function unrolledTiles(g: FilterGradShape, t: FilterGradTuning): number {
  const m = g.kh * g.kw * g.cin;
  let count = 0;
  for (let c0 = 0; c0 < g.cout / 4; c0 += t.cols) {
    const rows = Math.max(1, Math.floor(t.tile / Math.min(t.cols, g.cout / 4 - c0)));
    count += t.loopGroups && g.cin % rows === 0 && m / rows > 1 ? 1 : Math.ceil(m / rows);
  }
  return count;
}

/** Whether the SIMD loop handles this shape (Cout a multiple of 4, generated code of bounded size). */
export function filterGradSupported(g: FilterGradShape): boolean {
  return g.cout % 4 === 0 && g.oh > 0 && g.ow > 0 && unrolledTiles(g, DEFAULT_TUNING) <= 256;
}

// dw(xp, dyp, acc32, acc64, n): accumulate the gradient of n images into acc64 (float64, M×Cout); acc32 (float32,
// M×Cout) must be zero on entry and is zero on exit.
function dwFn(g: FilterGradShape, tuning: FilterGradTuning): WasmFn {
  const { cin, cout, kh, kw, sh, sw, oh, ow } = g;
  const { tile: TILE, block: BLOCK, unroll: UNROLL, cols: COLS, loopGroups: LOOP_GROUPS } = tuning;
  const { hp, wp } = paddedInput(g);
  const [xp, dyp, acc32, acc64, n, left, xr, dr, xq, dq, p32, p64, i, nb, rb, xrow, cnt] =
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
  const sv = 17;
  const d0 = 18;
  const a0 = 22;
  const m = kh * kw * cin;
  const cvt = cout / 4;
  const rowBytes = sh * wp * cin * 4;
  const blockRows = Math.max(1, Math.min(oh, Math.floor(BLOCK / ow)));
  const xoff = (r: number): number => {
    const tap = Math.floor(r / cin);
    return ((Math.floor(tap / kw) * wp + (tap % kw)) * cin + (r % cin)) * 4;
  };
  const vEnd = a0 + Math.max(TILE, 4);
  const [gi, gx, ga] = [vEnd, vEnd + 1, vEnd + 2];
  const groups: number[] = [];
  for (let c0 = 0; c0 < cvt; c0 += COLS) {
    const cvg = Math.min(COLS, cvt - c0);
    const rows = Math.max(1, Math.floor(TILE / cvg));
    // With `rows` dividing Cin, a tile's rows are consecutive channels of one tap: the tiles become one loop over
    // groups (x offset computed at run time), which keeps the code small.
    const looped = LOOP_GROUPS && cin % rows === 0 && m / rows > 1;
    for (let m0 = 0; m0 < m; m0 += rows) {
      if (looped && m0 > 0) break;
      const r = Math.min(rows, m - m0);
      const acc = (j: number, v: number): number => a0 + j * cvg + v;
      const xOffset = (j: number): number => (looped ? j * 4 : xoff(m0 + j));
      // One pixel u steps after (xq, dq).
      const pixel = (u: number): number[] => {
        const b: number[] = [];
        for (let v = 0; v < cvg; v++) b.push(...get(dq), ...op.vLoad(u * cout * 4 + (c0 + v) * 16), ...set(d0 + v));
        for (let j = 0; j < r; j++) {
          b.push(...get(xq), ...op.vLoadSplat(u * sw * cin * 4 + xOffset(j)), ...set(sv));
          for (let v = 0; v < cvg; v++) b.push(...fma(acc(j, v), sv, d0 + v));
        }
        return b;
      };
      const unrolled: number[] = [];
      for (let u = 0; u < UNROLL; u++) unrolled.push(...pixel(u));
      const rest: number[] = [];
      for (let u = 0; u < ow % UNROLL; u++) rest.push(...pixel(u));
      const tile: number[] = [];
      for (let j = 0; j < r * cvg; j++) tile.push(...zero(a0 + j));
      tile.push(...get(xr), ...(looped ? [...get(gx), ...op.i32Add] : []), ...set(xrow), ...get(dr), ...set(dq), ...get(nb), ...set(rb));
      tile.push(...countDown(rb, [
        ...get(xrow), ...set(xq),
        ...(ow >= UNROLL ? [...op.i32(Math.floor(ow / UNROLL)), ...set(cnt), ...countDown(cnt, [
          ...unrolled, ...addTo(xq, UNROLL * sw * cin * 4), ...addTo(dq, UNROLL * cout * 4)])] : []),
        ...rest, ...addTo(dq, (ow % UNROLL) * cout * 4), ...addTo(xrow, rowBytes),
      ]));
      const accBase = looped ? ga : acc32;
      for (let j = 0; j < r; j++) {
        for (let v = 0; v < cvg; v++) {
          const off = ((looped ? j : m0 + j) * cout + (c0 + v) * 4) * 4;
          tile.push(...get(accBase), ...get(accBase), ...op.vLoad(off), ...get(acc(j, v)), ...s(V.f32x4Add), ...op.vStore(off));
        }
      }
      if (!looped) {
        groups.push(...tile);
        continue;
      }
      // gi = 0..m/rows−1: m0 = gi·rows, tap = m0 / Cin, gx = ((tap / KW)·wp + tap % KW)·Cin·4 + (m0 % Cin)·4.
      const m0r = [...get(gi), ...op.i32(rows), ...op.i32Mul];
      const tap = [...m0r, ...op.i32(cin), 0x6e];
      groups.push(...op.i32(0), ...set(gi), ...op.loop,
        ...tap, ...op.i32(kw), 0x6e, ...op.i32(wp * cin * 4), ...op.i32Mul,
        ...tap, ...op.i32(kw), 0x70, ...op.i32(cin * 4), ...op.i32Mul, ...op.i32Add,
        ...m0r, ...op.i32(cin), 0x70, ...op.i32(4), ...op.i32Mul, ...op.i32Add, ...set(gx),
        ...get(acc32), ...m0r, ...op.i32(cout * 4), ...op.i32Mul, ...op.i32Add, ...set(ga),
        ...tile,
        ...get(gi), ...op.i32(1), ...op.i32Add, ...op.tee(gi), ...op.i32(m / rows), ...op.i32LtU, ...op.brIf(0), ...op.end);
    }
  }
  const shuffleHigh = s(V.shuffle, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
  const fold = [
    ...get(acc32), ...set(p32), ...get(acc64), ...set(p64), ...op.i32(m * cvt), ...set(i),
    ...countDown(i, [
      ...get(p32), ...op.vLoad(), ...set(sv),
      ...get(p64), ...get(p64), ...op.vLoad(0), ...get(sv), ...s(V.f64x2PromoteLow), ...s(V.f64x2Add), ...op.vStore(0),
      ...get(p64), ...get(p64), ...op.vLoad(16), ...get(sv), ...get(sv), ...shuffleHigh, ...s(V.f64x2PromoteLow), ...s(V.f64x2Add), ...op.vStore(16),
      ...get(p32), ...op.vConstF32(0), ...op.vStore(),
      ...addTo(p32, 16), ...addTo(p64, 32),
    ]),
  ];
  // Row blocks of nb = min(blockRows, rows left) rows; every tile runs over the whole block.
  const blocks = [
    ...get(left), ...op.i32(blockRows), ...get(left), ...op.i32(blockRows), ...op.i32LtU, ...op.select, ...set(nb),
    ...groups,
    ...get(xr), ...get(nb), ...op.i32(rowBytes), ...op.i32Mul, ...op.i32Add, ...set(xr),
    ...get(dr), ...get(nb), ...op.i32(ow * cout * 4), ...op.i32Mul, ...op.i32Add, ...set(dr),
    ...get(left), ...get(nb), ...op.i32Sub, ...op.tee(left), ...op.brIf(0),
  ];
  return {
    name: 'dw', params: [T.i32, T.i32, T.i32, T.i32, T.i32], results: [],
    locals: [...Array<ValType>(12).fill(T.i32), ...Array<ValType>(1 + 4 + Math.max(TILE, 4)).fill(T.v128), T.i32, T.i32, T.i32],
    body: [...countDown(n, [
      ...get(xp), ...set(xr), ...get(dyp), ...set(dr), ...op.i32(oh), ...set(left),
      ...op.loop, ...blocks, ...op.end,
      ...fold,
      ...addTo(xp, hp * wp * cin * 4), ...get(dr), ...set(dyp),
    ])],
  };
}

interface DwExports {
  dw(xp: number, dyp: number, acc32: number, acc64: number, n: number): void;
}

const cache = new ModuleCache<DwExports>();

/** Heap memory the caller provides (byte offsets into the wasm heap). */
export interface FilterGradBuffers {
  /** x, NHWC [n, H, W, Cin]. */
  readonly x: number;
  /** dy, NHWC [n, OH, OW, Cout]. */
  readonly dy: number;
  /** Scratch for the padded x: chunk·hp·wp·Cin floats. */
  readonly xPad: number;
  /** Scratch of 3·M·Cout floats (8-byte aligned), zeroed by the caller: float64 then float32 accumulators. */
  readonly acc: number;
}

/**
 * Run the filter gradient for `n` images, `chunk` at a time (each chunk is padded into `buffers.xPad`, which stays
 * in cache, then accumulated); the float64 result (M×Cout) is at `buffers.acc`. Returns false when the engine has
 * no wasm SIMD or x is cropped away entirely (then the caller falls back).
 * @param padTop rows of zeros above x (negative: rows cropped); likewise padLeft.
 */
export function filterGrad(
  backend: unknown, g: FilterGradShape, n: number, chunk: number, h: number, w: number, padTop: number,
  padLeft: number, buffers: FilterGradBuffers, tuning: FilterGradTuning = DEFAULT_TUNING,
): boolean {
  const mod = cache.bind(JSON.stringify([g, tuning]), backend, () => [dwFn(g, tuning)]);
  if (mod === null) return false;
  const { hp, wp } = paddedInput(g);
  const mc = g.kh * g.kw * g.cin * g.cout;
  const xImg = h * w * g.cin * 4;
  const dyImg = g.oh * g.ow * g.cout * 4;
  for (let b = 0; b < n; b += chunk) {
    const k = Math.min(chunk, n - b);
    if (!padImages(backend, buffers.x + b * xImg, { h, w, c: g.cin }, buffers.xPad, { h: hp, w: wp, c: g.cin }, k, padTop, padLeft)) {
      return false;
    }
    mod.dw(buffers.xPad, buffers.dy + b * dyImg, buffers.acc + mc * 8, buffers.acc, k);
  }
  return true;
}
