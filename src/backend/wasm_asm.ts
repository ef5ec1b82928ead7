/**
 * A minimal WebAssembly binary writer: just enough to emit the SIMD loops of tfjs-qat's kernels (quantizers,
 * gradients, GEMM, optimizer) as modules that import a memory: the tfjs wasm backend's own, or a shared one. No
 * dependencies; the opcodes are those of the WebAssembly core + fixed-width SIMD specs.
 */

/** Value types. */
export const T = { i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
/** One value type byte. */
export type ValType = (typeof T)[keyof typeof T];

/** Unsigned LEB128. */
export function uleb(v: number): number[] {
  const out: number[] = [];
  let x = v >>> 0;
  do {
    let b = x & 0x7f;
    x >>>= 7;
    if (x !== 0) b |= 0x80;
    out.push(b);
  } while (x !== 0);
  return out;
}

/** Signed LEB128 (32-bit). */
export function sleb(v: number): number[] {
  const out: number[] = [];
  let x = v | 0;
  for (;;) {
    const b = x & 0x7f;
    x >>= 7;
    if ((x === 0 && (b & 0x40) === 0) || (x === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const str = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

/** Instruction helpers (each returns the instruction's bytes). */
export const op = {
  get: (i: number): number[] => [0x20, ...uleb(i)],
  set: (i: number): number[] => [0x21, ...uleb(i)],
  tee: (i: number): number[] => [0x22, ...uleb(i)],
  i32: (v: number): number[] => [0x41, ...sleb(v)],
  f32: (v: number): number[] => { const b = new Uint8Array(new Float32Array([v]).buffer); return [0x43, ...b]; },
  f64: (v: number): number[] => { const b = new Uint8Array(new Float64Array([v]).buffer); return [0x44, ...b]; },
  block: [0x02, 0x40], loop: [0x03, 0x40], end: [0x0b],
  br: (d: number): number[] => [0x0c, ...uleb(d)],
  brIf: (d: number): number[] => [0x0d, ...uleb(d)],
  ret: [0x0f],
  /** `if` without a result; close with `end` (optional `else`). */
  if: [0x04, 0x40], else: [0x05], select: [0x1b], drop: [0x1a],
  call: (f: number): number[] => [0x10, ...uleb(f)],
  i32Add: [0x6a], i32Sub: [0x6b], i32Mul: [0x6c], i32And: [0x71], i32Or: [0x72], i32Shl: [0x74], i32ShrS: [0x75], i32ShrU: [0x76],
  i32Eqz: [0x45], i32Eq: [0x46], i32Ne: [0x47], i32LtS: [0x48], i32LtU: [0x49], i32GtS: [0x4a], i32GtU: [0x4b],
  i32LeS: [0x4c], i32LeU: [0x4d], i32GeS: [0x4e], i32GeU: [0x4f],
  i32Load: (offset = 0): number[] => [0x28, 2, ...uleb(offset)],
  i32Store: (offset = 0): number[] => [0x36, 2, ...uleb(offset)],
  f32Load: (offset = 0): number[] => [0x2a, 2, ...uleb(offset)],
  f32Store: (offset = 0): number[] => [0x38, 2, ...uleb(offset)],
  f64Load: (offset = 0): number[] => [0x2b, 3, ...uleb(offset)],
  f64Store: (offset = 0): number[] => [0x39, 3, ...uleb(offset)],
  f32Abs: [0x8b], f32Neg: [0x8c], f32Sqrt: [0x91], f32Add: [0x92], f32Sub: [0x93], f32Mul: [0x94], f32Div: [0x95],
  f32Min: [0x96], f32Max: [0x97], f32Eq: [0x5b],
  f64Add: [0xa0], f64Sub: [0xa1], f64Mul: [0xa2], f64Div: [0xa3],
  f32ConvertI32S: [0xb2], f32DemoteF64: [0xb6], f64PromoteF32: [0xbb],
  /** A SIMD instruction (0xfd prefix) with its LEB opcode and immediates. */
  simd: (code: number, ...imm: number[]): number[] => [0xfd, ...uleb(code), ...imm],
  vLoad: (offset = 0): number[] => [0xfd, 0x00, 4, ...uleb(offset)],
  vStore: (offset = 0): number[] => [0xfd, 0x0b, 4, ...uleb(offset)],
  /** v128.load32_splat: one f32/i32 from memory into all 4 lanes. */
  vLoadSplat: (offset = 0): number[] => [0xfd, 0x09, 2, ...uleb(offset)],
  /** v128.const from four f32 lanes. */
  vConstF32: (a: number, b = a, c = a, d = a): number[] => [0xfd, 0x0c, ...new Uint8Array(new Float32Array([a, b, c, d]).buffer)],
};

/** SIMD opcodes used here. */
export const V = {
  shuffle: 0x0d, i32x4Splat: 0x11, f32x4Splat: 0x13, f32x4Extract: 0x1f, f32x4Replace: 0x20, f64x2Extract: 0x21,
  f32x4Eq: 0x41, f32x4Ne: 0x42, f32x4Lt: 0x43, f32x4Gt: 0x44, f32x4Le: 0x45, f32x4Ge: 0x46,
  not: 0x4d, and: 0x4e, andnot: 0x4f, or: 0x50, xor: 0x51, bitselect: 0x52,
  f64x2PromoteLow: 0x5f, f32x4Ceil: 0x67, f32x4Floor: 0x68, f32x4Trunc: 0x69, f32x4Nearest: 0x6a,
  f32x4Abs: 0xe0, f32x4Neg: 0xe1, f32x4Sqrt: 0xe3, f32x4Add: 0xe4, f32x4Sub: 0xe5, f32x4Mul: 0xe6, f32x4Div: 0xe7,
  f32x4Min: 0xe8, f32x4Max: 0xe9, f32x4Pmin: 0xea, f32x4Pmax: 0xeb,
  f64x2Add: 0xf0, f64x2Mul: 0xf2,
} as const;

/** One exported function. */
export interface WasmFn {
  readonly name: string;
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
  /** Extra locals after the params. */
  readonly locals: readonly ValType[];
  /** Instruction bytes (without the final `end`). */
  readonly body: readonly number[];
}

/** How the module's imported memory is declared. */
export interface AssembleOptions {
  /** Import a shared memory (for worker threads) with these page limits; default: an unshared memory, min 0. */
  readonly shared?: { readonly minPages: number; readonly maxPages: number };
}

/** A module importing memory `env.memory` and exporting `fns` (function i may call function j with `op.call(j)`). */
export function assemble(fns: readonly WasmFn[], options: AssembleOptions = {}): Uint8Array {
  const types = section(1, vec(fns.map((f) => [0x60, ...uleb(f.params.length), ...f.params, ...uleb(f.results.length), ...f.results])));
  const limits = options.shared === undefined ? [0x00, 0x00] : [0x03, ...uleb(options.shared.minPages), ...uleb(options.shared.maxPages)];
  const imports = section(2, vec([[...str('env'), ...str('memory'), 0x02, ...limits]]));
  const funcs = section(3, vec(fns.map((_, i) => uleb(i))));
  const exports = section(7, vec(fns.map((f, i) => [...str(f.name), 0x00, ...uleb(i)])));
  const code = section(10, vec(fns.map((f) => {
    const locals = vec(f.locals.map((t) => [1, t]));
    const body = [...locals, ...f.body, 0x0b];
    return [...uleb(body.length), ...body];
  })));
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...types, ...imports, ...funcs, ...exports, ...code]);
}
