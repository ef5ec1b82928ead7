/**
 * Loop-building helpers for the element-wise wasm kernels (bias add, column sums, ReLU, average pools) written
 * with wasm_asm.ts. Each helper returns instruction bytes; `i`, `n`, pointers are local indices.
 */
import { op } from '../wasm_asm.js';

const { get, set } = op;

/** `ptr += step` (i32 locals). */
export const advance = (ptr: number, step: number): number[] => [...get(ptr), ...op.i32(step), ...op.i32Add, ...set(ptr)];

/** `ptr += by` (i32 locals). */
export const advanceBy = (ptr: number, by: number): number[] => [...get(ptr), ...get(by), ...op.i32Add, ...set(ptr)];

/** `dst = base + off` (i32 locals). */
export const addr = (base: number, off: number): number[] => [...get(base), ...get(off), ...op.i32Add];

/** `i = 0; while (i < n) { body; i += step }` with unsigned compare (i, n: i32 locals). */
export const forUp = (i: number, n: number, step: number, body: number[]): number[] => [
  ...op.i32(0), ...set(i), ...op.block, ...op.loop, ...get(i), ...get(n), ...op.i32GeU, ...op.brIf(1),
  ...body, ...advance(i, step), ...op.br(0), ...op.end, ...op.end,
];
