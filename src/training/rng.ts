/**
 * Seeded randomness for training: one run seed drives weight init, shuffling, the validation split
 * and any `Math.random` use inside a training step (dropout, unseeded tf.random*).
 */
import seedrandom from 'seedrandom';

/** A uniform [0, 1) generator. */
export type Rng = () => number;

/**
 * A seeded uniform generator (seedrandom's ARC4).
 * @example const rng = makeRng(42); rng(); // same sequence every run
 */
export function makeRng(seed: number | string): Rng {
  const r = seedrandom(String(seed));
  return () => r();
}

/** A seeded generator whose position can be saved and restored (for saveParams/loadParams). */
export interface StatefulRng {
  readonly next: Rng;
  /** An opaque JSON-serializable snapshot of the generator. */
  state(): object;
}

/**
 * A stateful seeded generator; pass `state` (from `.state()`) to resume exactly where it was.
 * @example const r = makeStatefulRng(1); r.next(); const s = r.state(); makeStatefulRng(1, s).next() === r.next();
 */
export function makeStatefulRng(seed: number | string, state?: object): StatefulRng {
  const r = state !== undefined ? seedrandom('', { state: state as seedrandom.State.Arc4 }) : seedrandom(String(seed), { state: true });
  return { next: () => r(), state: () => r.state() };
}

/** An integer in [0, n) from `rng`. */
export function randInt(rng: Rng, n: number): number {
  return Math.min(n - 1, Math.floor(rng() * n));
}

/**
 * Fisher-Yates shuffle of `arr` in place with `rng`; returns `arr`.
 * @example shuffleInPlace(Int32Array.from([0, 1, 2]), makeRng(0));
 */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(arr: T, rng: Rng): T {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = randInt(rng, i + 1);
    const t = arr[i] as number;
    arr[i] = arr[j] as number;
    arr[j] = t;
  }
  return arr;
}

/**
 * Run the synchronous `fn` with `Math.random` replaced by `rng`, then restore it.
 * tfjs initializers, dropout and unseeded `tf.random*` draw their seeds from `Math.random`,
 * so this makes them reproducible without touching the global generator outside `fn`.
 */
export function withMathRandom<T>(rng: Rng, fn: () => T): T {
  const saved = Math.random;
  Math.random = rng;
  try {
    return fn();
  } finally {
    Math.random = saved;
  }
}

/** A child seed derived from `seed` and a purpose tag, so streams do not overlap. */
export function deriveSeed(seed: number | string, tag: string): string {
  return `${String(seed)}/${tag}`;
}
