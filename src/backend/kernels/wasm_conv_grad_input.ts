/**
 * Conv2DBackpropInput (NHWC, float32, dilation 1) as a shape-specialized WebAssembly SIMD loop over the tfjs heap.
 *
 * dy is copied into a zero-padded (and, for strides > 1, zero-inserted) `dq` of size [H+KH−1, W+KW−1, Cout] with
 * dq[pt'+oh·sh, pl'+ow·sw] = dy[oh, ow] (pt' = KH−1−padTop, pl' = KW−1−padLeft), so that
 *
 *   dx[h,w,ci] = Σ_{a,b,co} dq[h+a, w+b, co] · W[KH−1−a, KW−1−b, ci, co]
 *
 * is a stride-1 correlation without border branches. Two register tilings:
 * - 'ci' (Cin a multiple of 4): P pixels × up to 4 Cin vectors; per (tap, co) the filter vectors of the
 *   transposed filter Wt[a,b,co,ci] are loaded once and multiplied by P splatted dy values;
 * - 'co' (Cout a multiple of 4): P pixels × up to 4 input channels, vectors over Cout, one horizontal sum per
 *   output value; the filter is rearranged as Wf[a,ci,b,co].
 * Per filter row a, the (b, co) items are contiguous in dq and in the rearranged filter, so the innermost loop is a
 * short pointer walk (small code: fully unrolled variants measured slower, instruction-cache bound).
 * Every sum is float32 over KH·KW·Cout terms (as in XNNPACK and tfjs' kernels).
 */
import { op, T, type ValType, type WasmFn } from '../wasm_asm.js';
import { addTo, countDown, fma, hsum, ModuleCache, zero } from './wasm_conv_grad_simd.js';

const { get, set } = op;

/** Shape of one input-gradient problem (per image). */
export interface InputGradShape {
  readonly cin: number;
  readonly cout: number;
  readonly kh: number;
  readonly kw: number;
  /** dx height and width. */
  readonly h: number;
  readonly w: number;
}

/** Which tiling: vectors over input channels ('ci') or output channels ('co'). */
export type InputGradMode = 'ci' | 'co';

/** Code-generation knobs (for tuning). */
export interface InputGradTuning {
  /** Accumulator vectors per tile. @default 8 ('ci'), 6 ('co') */
  readonly tile: number;
  /** Filter items per inner-loop iteration (at most; small code runs faster here). @default 1 */
  readonly unroll: number;
  /** Channel vectors ('ci') or channels ('co') per chunk, at most 4. @default 4 */
  readonly chunk: number;
}

const DEFAULT_TUNING: Readonly<Record<InputGradMode, InputGradTuning>> = { ci: { tile: 8, unroll: 1, chunk: 4 }, co: { tile: 6, unroll: 1, chunk: 4 } };

/** The tiling for this shape, or undefined when neither applies (or the generated code would be too large). */
export function inputGradMode(g: InputGradShape): InputGradMode | undefined {
  // Code size grows with the channel chunks (4 vectors or 4 channels each); offsets must stay small.
  if (g.cin > 256 || g.kh * g.kw * g.cin * g.cout > 1 << 20) return undefined;
  if (g.cin % 4 === 0) return 'ci';
  return g.cout % 4 === 0 ? 'co' : undefined;
}

/** Padded dy size read by the loop: [H+KH−1, W+KW−1]. */
export function paddedGrad(g: InputGradShape): { hq: number; wq: number } {
  return { hq: g.h + g.kh - 1, wq: g.w + g.kw - 1 };
}

// dx(dq, wgt, dxp, n): dx of n images from the padded dy `dq`; wgt = Wt[a,b,co,ci] ('ci') or Wf[a,ci,b,co] ('co').
function dxFn(g: InputGradShape, mode: InputGradMode, tuning: InputGradTuning): WasmFn {
  const { cin, cout, kh, kw, h, w } = g;
  const { tile: TILE, unroll: UNROLL, chunk: CHUNK } = tuning;
  const { hq, wq } = paddedGrad(g);
  const [dyp, wgt, dxp, n, row, dr, xr, dq, xq, cnt, pj, pw, jc] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const sv = 13;
  const w0 = 14;
  const a0 = 18;
  const groupSize = (mode === 'ci' ? cin / 4 : cin);
  // Per filter row a, the (b, co) pairs are contiguous in dq and in the filter layout: J items ('ci': scalars
  // of dq, 'co': f32x4 vectors), U per loop iteration.
  const items = mode === 'ci' ? kw * cout : (kw * cout) / 4;
  let unroll = Math.min(items, UNROLL);
  while (items % unroll !== 0) unroll--;
  const tile = (p: number, c0: number, cg: number): number[] => {
    const acc = (q: number, k: number): number => a0 + q * cg + k;
    const step = (u: number): number[] => {
      const b: number[] = [];
      if (mode === 'ci') {
        for (let k = 0; k < cg; k++) b.push(...get(pw), ...op.vLoad((u * cin + (c0 + k) * 4) * 4), ...set(w0 + k));
        for (let q = 0; q < p; q++) {
          b.push(...get(pj), ...op.vLoadSplat((q * cout + u) * 4), ...set(sv));
          for (let k = 0; k < cg; k++) b.push(...fma(acc(q, k), sv, w0 + k));
        }
      } else {
        for (let k = 0; k < cg; k++) b.push(...get(pw), ...op.vLoad((k * kw * cout + u * 4) * 4), ...set(w0 + k));
        for (let q = 0; q < p; q++) {
          b.push(...get(pj), ...op.vLoad((q * cout + u * 4) * 4), ...set(sv));
          for (let k = 0; k < cg; k++) b.push(...fma(acc(q, k), sv, w0 + k));
        }
      }
      return b;
    };
    const body: number[] = [];
    for (let u = 0; u < unroll; u++) body.push(...step(u));
    const pwStep = mode === 'ci' ? unroll * cin * 4 : unroll * 16;
    const pjStep = mode === 'ci' ? unroll * 4 : unroll * 16;
    const b: number[] = [];
    for (let j = 0; j < p * cg; j++) b.push(...zero(a0 + j));
    for (let a = 0; a < kh; a++) {
      const wBase = mode === 'ci' ? a * kw * cout * cin * 4 : (a * cin + c0) * kw * cout * 4;
      b.push(...get(dq), ...op.i32(a * wq * cout * 4), ...op.i32Add, ...set(pj), ...get(wgt), ...op.i32(wBase), ...op.i32Add, ...set(pw));
      if (items === unroll) b.push(...body);
      else b.push(...op.i32(items / unroll), ...set(jc), ...countDown(jc, [...body, ...addTo(pj, pjStep), ...addTo(pw, pwStep)]));
    }
    for (let q = 0; q < p; q++) {
      for (let k = 0; k < cg; k++) {
        if (mode === 'ci') b.push(...get(xq), ...get(acc(q, k)), ...op.vStore((q * cin + (c0 + k) * 4) * 4));
        else b.push(...get(xq), ...hsum(acc(q, k)), ...op.f32Store((q * cin + c0 + k) * 4));
      }
    }
    return b;
  };
  const chunks: number[] = [];
  for (let c0 = 0; c0 < groupSize; c0 += CHUNK) {
    const cg = Math.min(CHUNK, groupSize - c0);
    const p = Math.max(1, Math.floor(TILE / cg));
    chunks.push(...get(dr), ...set(dq), ...get(xr), ...set(xq));
    if (w >= p) {
      chunks.push(...op.i32(Math.floor(w / p)), ...set(cnt),
        ...countDown(cnt, [...tile(p, c0, cg), ...addTo(dq, p * cout * 4), ...addTo(xq, p * cin * 4)]));
    }
    if (w % p !== 0) chunks.push(...tile(w % p, c0, cg));
  }
  return {
    name: 'dx', params: [T.i32, T.i32, T.i32, T.i32], results: [],
    locals: [...Array<ValType>(9).fill(T.i32), ...Array<ValType>(1 + 4 + Math.max(TILE, 4)).fill(T.v128)],
    body: [...countDown(n, [
      ...get(dyp), ...set(dr), ...get(dxp), ...set(xr), ...op.i32(h), ...set(row),
      ...countDown(row, [...chunks, ...addTo(dr, wq * cout * 4), ...addTo(xr, w * cin * 4)]),
      ...addTo(dyp, hq * wq * cout * 4), ...get(xr), ...set(dxp),
    ])],
  };
}

interface DxExports {
  dx(dq: number, wgt: number, dxp: number, n: number): void;
}

const cache = new ModuleCache<DxExports>();

/** The bound loop for this shape and tiling, or null without wasm SIMD. */
export function inputGradLoop(
  backend: unknown, g: InputGradShape, mode: InputGradMode, tuning: InputGradTuning = DEFAULT_TUNING[mode],
): DxExports | null {
  return cache.bind(JSON.stringify([g, mode, tuning]), backend, () => [dxFn(g, mode, tuning)]);
}

/** The filter in the tiling's layout: Wt[a,b,co,ci] ('ci') or Wf[a,ci,b,co] ('co'), with W[KH−1−a, KW−1−b, ci, co]. */
export function flipFilter(wIn: Float32Array, out: Float32Array, g: InputGradShape, mode: InputGradMode): void {
  const { kh, kw, cin, cout } = g;
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const src = ((kh - 1 - a) * kw + (kw - 1 - b)) * cin * cout;
      for (let ci = 0; ci < cin; ci++) {
        for (let co = 0; co < cout; co++) {
          const dst = mode === 'ci' ? ((a * kw + b) * cout + co) * cin + ci : ((a * cin + ci) * kw + b) * cout + co;
          out[dst] = wIn[src + ci * cout + co]!;
        }
      }
    }
  }
}

/**
 * dq[b, pt+oh·sh, pl+ow·sw, :] = dy[b, oh, ow, :] where inside [hq, wq], zeros elsewhere (the zero-inserted copy
 * for strides > 1; stride 1 uses padImages).
 */
export function dilateGrad(
  dy: Float32Array, dq: Float32Array, n: number, oh: number, ow: number, cout: number,
  hq: number, wq: number, sh: number, sw: number, pt: number, pl: number,
): void {
  dq.fill(0);
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < oh; r++) {
      const rr = pt + r * sh;
      if (rr < 0 || rr >= hq) continue;
      for (let c = 0; c < ow; c++) {
        const cc = pl + c * sw;
        if (cc < 0 || cc >= wq) continue;
        const src = ((b * oh + r) * ow + c) * cout;
        dq.set(dy.subarray(src, src + cout), ((b * hq + rr) * wq + cc) * cout);
      }
    }
  }
}
