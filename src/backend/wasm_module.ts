/**
 * Instantiating tfjs-qat's own small WebAssembly modules (built with wasm_asm.ts) against the memory of the tfjs
 * wasm backend, so they read and write tensors in place: a pointer is a heap view's `byteOffset`.
 */

/** The parts of the WebAssembly JS API used here (the project's TS libs do not declare it). */
export interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: (abstract new (...args: never[]) => object) & (new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemoryLike);
}

/** A WebAssembly.Memory as used here. */
export interface WasmMemoryLike {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}

/** The engine's WebAssembly object, or undefined. */
export const wasmApi: WasmApi | undefined = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** The WebAssembly.Memory of a tfjs wasm backend object, or undefined (another backend, or no WebAssembly). */
export function backendMemory(backend: unknown): object | undefined {
  const mem = (backend as { wasm?: { asm?: { memory?: unknown } } } | null)?.wasm?.asm?.memory;
  return wasmApi !== undefined && mem instanceof wasmApi.Memory ? mem : undefined;
}

/**
 * A lazily compiled module, instantiated once per memory. `bind(backend)` returns the exports bound to that tfjs
 * wasm backend's heap, or null when the engine cannot compile it (no SIMD) or the backend is not tfjs' wasm.
 */
export class HeapModule<E> {
  /** Every module created in this process (for the test that all of them compile: a rejected module falls back silently). */
  static readonly created: Array<HeapModule<unknown>> = [];
  private compiled: object | null | undefined;
  /** Why the engine rejected the module (null when it compiled or was not tried yet). */
  compileError: unknown = null;
  private readonly instances = new WeakMap<object, E | null>();

  /** @param bytes the module (from `assemble`), importing `env.memory`. */
  constructor(private readonly bytes: Uint8Array) {
    HeapModule.created.push(this as HeapModule<unknown>);
  }

  /** The compiled module, or null when this engine rejects it. */
  module(): object | null {
    if (this.compiled === undefined) {
      try {
        this.compiled = wasmApi === undefined ? null : new wasmApi.Module(this.bytes);
      } catch (e) {
        this.compiled = null;
        this.compileError = e;
      }
    }
    return this.compiled;
  }

  /** Exports bound to `memory` (a WebAssembly.Memory), or null. */
  forMemory(memory: object): E | null {
    const hit = this.instances.get(memory);
    if (hit !== undefined) return hit;
    const m = this.module();
    const inst = m === null || wasmApi === undefined ? null : (new wasmApi.Instance(m, { env: { memory } }).exports as E);
    this.instances.set(memory, inst);
    return inst;
  }

  /** Exports bound to the heap of a tfjs wasm backend object, or null. */
  bind(backend: unknown): E | null {
    const mem = backendMemory(backend);
    return mem === undefined ? null : this.forMemory(mem);
  }
}
