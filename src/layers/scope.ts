/** tf.tidy scope helpers for the layers' per-call caches. */
import * as tf from '@tensorflow/tfjs';

/**
 * Hand a tensor created in the innermost tf.tidy scope to the outermost one, so that it lives (and can be reused)
 * until the outermost tidy ends (e.g. the whole `model.predict`) and is then disposed like any tidy temporary: the
 * eval cache never holds tensors beyond the caller's scope. With a single scope it is left where it is.
 */
export function moveToOutermostScope(t: tf.Tensor): void {
  const stack = (tf.engine().state as unknown as { scopeStack?: Array<{ track: tf.Tensor[] }> }).scopeStack;
  if (stack === undefined || stack.length < 2) return;
  const inner = stack[stack.length - 1]?.track;
  const outer = stack[0]?.track;
  if (inner === undefined || outer === undefined) return;
  const i = inner.lastIndexOf(t);
  if (i < 0) return;
  inner.splice(i, 1);
  outer.push(t);
}
