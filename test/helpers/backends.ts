// Run a describe block once per backend (numerics tests run on wasm and cpu), restoring the default after.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { useBackend } from '../../src/backend/use_backend.js';

export const NUMERIC_BACKENDS = ['wasm', 'cpu'] as const;

/** describe(`${title} [backend]`) for each numerics backend. */
export function describeEachBackend(title: string, body: (backend: 'wasm' | 'cpu') => void): void {
  for (const b of NUMERIC_BACKENDS) {
    describe(`${title} [${b}]`, () => {
      before(async () => { await useBackend(b, { quiet: true }); });
      after(async () => { await useBackend((process.env['TFJS_QAT_BACKEND'] ?? 'auto') as 'auto', { quiet: true }); });
      body(b);
    });
  }
}

/** Run fn and assert that it leaves no new tensors behind. */
export function expectNoLeaks<T>(fn: () => T, allowed = 0): T {
  const before = tf.memory().numTensors;
  const out = fn();
  const after = tf.memory().numTensors;
  expect(after - before, `leaked ${after - before} tensors`).to.be.at.most(allowed);
  return out;
}

/** Float32 array of a tensor (copy). */
export function arr(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

/** Max |a-b| / max(|b|, tiny). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs((a[i] ?? NaN) - (b[i] ?? NaN)));
    den = Math.max(den, Math.abs(b[i] ?? 0));
  }
  return num / Math.max(den, 1e-30);
}

/** Deterministic pseudo-random floats (mulberry32), for test inputs. */
export function randomFloats(n: number, seed: number, scale = 1): number[] {
  let a = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out.push(Math.fround((u * 2 - 1) * scale));
  }
  return out;
}

/** Deterministic values in [-0.5, 0.5) from an LCG (no tf randomness involved), as a Float32Array. */
export function lcgValues(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}

/** max |a-b| / max |b|, asserting equal lengths and a non-zero reference (so an empty or all-zero result fails). */
export function relErrStrict(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).to.equal(b.length);
  let m = 0;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(b[i]!));
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
  }
  expect(m).to.be.greaterThan(0);
  return d / m;
}

/**
 * Quantizer test inputs for scale s: random values in ±spread·s, the ties (k + 0.5)·s for k = -9..9 at every third
 * index, -0.3·s (rounds to -0), -0 and +0 at indices 1, 2 and 4, cut to n (use n % 4 != 0 to reach SIMD tails).
 */
export function quantInputs(n: number, s: number, seed: number, spread = 9): number[] {
  const xs = randomFloats(n, seed, spread * s);
  for (let k = -9; k <= 9; k++) xs[(k + 9) * 3] = Math.fround((k + 0.5) * s);
  xs[1] = Math.fround(-0.3 * s);
  xs[2] = -0;
  xs[4] = 0;
  return xs.slice(0, n);
}
