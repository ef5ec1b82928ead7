/**
 * The 'QatSoftmaxCE' / 'QatSoftmaxCEGrad' kernel pair: tfjs' `tf.losses.softmaxCrossEntropy(labels, logits)` (default
 * weights, labelSmoothing 0, Reduction.SUM_BY_NONZERO_WEIGHTS) in one forward and one backward kernel, for the wasm
 * and cpu backends, on float32 [rows, classes] inputs. tfjs-core 4.22 computes, per row r (ops in float32):
 *
 *     lse_r   = max_r + log(Σ_j exp(x_rj − max_r))          logResult_rj = x_rj − lse_r
 *     loss    = Σ_r (−Σ_j labels_rj · logResult_rj) / rows  (SUM_BY_NONZERO_WEIGHTS without weights divides by
 *                                                             the number of per-row losses, i.e. by rows)
 *
 * and its custom gradient (softmax_cross_entropy.js), with dy_r = f32(dy / rows) from the mean:
 *
 *     ∂/∂logits_rj = dy_r · (exp(logResult_rj) − labels_rj)
 *     ∂/∂labels_rj = dy_r · (labels_rj − exp(logResult_rj))   (= −∂/∂logits; tfjs' choice, kept for parity)
 *
 * Note tfjs' logits gradient ignores the row sum of the labels: it is the true derivative only when every label
 * row sums to 1 (the true one would be dy_r·(softmax·Σ_j labels_rj − labels_rj)); and its labels gradient is not
 * the true derivative (−dy_r·logResult_rj) either. We reproduce tfjs exactly, not the calculus.
 *
 * Numerics: the loss is computed in float64 throughout (lse − x = (max − x) + log Σ exp(x − max), no float32
 * rounding before the final one), so it is the exact value to float32 precision; tfjs' own loss rounds lse and
 * logResult to float32 and is off the exact value by up to ~ulp(|logits|) per term (it differs from ours by > 1e-6
 * relative only where it is itself > 1e-6 off). The gradient instead reproduces tfjs' float32 rounding of lse per
 * backend (see `LseRounding`) and then f32(dy_r · f32(f32(exp(f32(x − lse))) − label)), so it matches tfjs' to
 * ~1e-7 of the largest gradient. The forward computes that softmax too (one exp per element serves both) and
 * keeps it in a WeakMap keyed by the logits' dataId, so the backward kernel is one multiply-subtract per element;
 * when it misses (other labels, a direct call) it recomputes from the saved inputs.
 */
import * as tf from '@tensorflow/tfjs';
import { QatError } from '../errors.js';
import { asCpuBackend, asWasmBackend } from '../backend/kernels/kernel_util.js';

/** Forward kernel: inputs `labels`, `logits` (float32 [rows, classes]); output the scalar mean loss. */
export const SOFTMAX_CE_KERNEL = 'QatSoftmaxCE';
/** Backward kernel: inputs `dy` (float32 scalar), `labels`, `logits`; output ∂loss/∂logits (float32 [rows, classes]). */
export const SOFTMAX_CE_GRAD_KERNEL = 'QatSoftmaxCEGrad';
/** Backends that have both kernels. */
export const SOFTMAX_CE_BACKENDS = ['wasm', 'cpu'] as const;

// ---------------------------------------------------------------- loops (shared by both backends)

/** Input values: a Float32Array on wasm; on cpu a float32 tensor may also be backed by an Int32Array (e.g. a cast). */
export type Values = Float32Array | Int32Array | Uint8Array;

/**
 * How tfjs' backend rounds inside logSumExp: 'wasm' sums f32(exp) sequentially in float32 and takes a float32 log
 * of it; 'cpu' sums f32(exp) in float64 (its Sum kernel accumulates in a JS number) and stores the sum as float32.
 */
export type LseRounding = 'wasm' | 'cpu';

let scratch = new Float64Array(16);

/**
 * One pass over [rows, classes] logits, one exp per element. Returns the loss, the mean over rows of
 * Σ_j labels·(lse − logits) in float64 (lse unrounded: the exact loss to ~1e-10 before its float32 rounding; tfjs
 * rounds lse and logits − lse to float32, which costs it up to ~ulp(|logits|) per term, i.e. 1e-6 relative and more
 * when the loss is small next to the logits; that error is not reproduced). Writes into `probs` (when given) tfjs'
 * float32 softmax f32(exp(f32(x − lse32))) with lse32 = f32(max + f32(log(Σ f32(exp(f32(x − max)))))) summed the
 * way `rounding`'s backend sums it: so softmax follows tfjs' lse to the ulp even where that lse is 1 ulp off the
 * exact value (at |logits| ~ 80 that ulp moves softmax by ~8e-6 relative). softmax is taken as
 * exp(f32(x − max))·exp(max − lse32): within p·|log p|·2⁻²⁴ ≤ 2.2e-8 of exp(f32(x − lse32)) before rounding.
 * The exact loss uses exp(x − max) = exp(a)·(1 + (x − max − a)) with a = f32(x − max) (|x − max − a| ≤ 1e-5, so the
 * dropped second-order term is ≤ 5e-11 relative).
 */
export function softmaxCEForwardLoop(
  labels: Values, logits: Values, rows: number, classes: number, rounding: LseRounding, probs?: Float32Array,
): number {
  const f = Math.fround;
  if (scratch.length < classes) scratch = new Float64Array(classes);
  const e = scratch;
  const f32Sum = rounding === 'wasm';
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const off = r * classes;
    let max = -Infinity;
    for (let j = 0; j < classes; j++) { const v = logits[off + j]!; if (v > max) max = v; }
    let exact = 0;
    let s32 = 0;
    for (let j = 0; j < classes; j++) {
      const d = logits[off + j]! - max; // exact in float64 for float32 inputs
      const a = f(d);
      const ea = Math.exp(a);
      e[j] = ea;
      exact += d === a ? ea : ea * (1 + (d - a)); // (d === a also keeps −∞ logits from giving NaN here)
      s32 = f32Sum ? f(s32 + f(ea)) : s32 + f(ea);
    }
    const logSum = Math.log(exact);
    // lse − x = (max − x) + logSum, max − x exact
    for (let j = 0; j < classes; j++) total += labels[off + j]! * ((max - logits[off + j]!) + logSum);
    if (probs !== undefined) {
      const lse32 = f(max + f(Math.log(f(s32))));
      const scale = Math.exp(max - lse32);
      for (let j = 0; j < classes; j++) probs[off + j] = e[j]! * scale;
    }
  }
  return total / rows;
}

/** ∂loss/∂logits into `out`: f32(f32(dy/rows) · f32(probs − labels)), tfjs' custom gradient (probs: tfjs' softmax). */
export function softmaxCEGradLoop(dy: number, labels: Values, probs: Float32Array, rows: number, out: Float32Array): void {
  const f = Math.fround;
  const dyRow = f(f(dy) / rows);
  for (let i = 0; i < probs.length; i++) out[i] = f(dyRow * f(probs[i]! - labels[i]!));
}

/**
 * tfjs' softmax of the logits each forward call saw, for the backward kernel: keyed by the logits' dataId (tensor
 * data is immutable, and the tape's saved copy of logits shares that dataId), valid for the labels' dataId stored
 * with it. A WeakMap: an entry goes with its tensor data. Backward calls that miss recompute.
 */
const probsCache = new WeakMap<object, { labels: object; probs: Float32Array }>();

function probsFor(labels: tf.TensorInfo, logits: tf.TensorInfo, l: Values, z: Values, rows: number, classes: number, rounding: LseRounding): Float32Array {
  const hit = probsCache.get(logits.dataId);
  if (hit !== undefined && hit.labels === labels.dataId) return hit.probs;
  const probs = new Float32Array(rows * classes);
  softmaxCEForwardLoop(l, z, rows, classes, rounding, probs);
  return probs;
}

/** The forward for one backend: the loss, and tfjs' softmax cached for the backward. */
function forward(labels: tf.TensorInfo, logits: tf.TensorInfo, l: Values, z: Values, rows: number, classes: number, rounding: LseRounding): number {
  const probs = new Float32Array(rows * classes);
  const loss = softmaxCEForwardLoop(l, z, rows, classes, rounding, probs);
  probsCache.set(logits.dataId, { labels: labels.dataId, probs });
  return loss;
}

// ---------------------------------------------------------------- kernels

interface KernelArgs { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }

/** labels and logits, checked: float32, rank 2, same shape. */
function readPair(inputs: tf.NamedTensorInfoMap, kernel: string): [tf.TensorInfo, tf.TensorInfo, number, number] {
  const { labels, logits } = inputs;
  if (labels === undefined || logits === undefined) throw new QatError(`${kernel}: inputs labels and logits are required`);
  for (const [k, t] of [['labels', labels], ['logits', logits]] as const) {
    if (t.dtype !== 'float32') throw new QatError(`${kernel}: input '${k}' must be float32; got ${t.dtype}`);
  }
  if (logits.shape.length !== 2 || labels.shape.length !== 2 || labels.shape[0] !== logits.shape[0] || labels.shape[1] !== logits.shape[1]) {
    throw new QatError(`${kernel}: labels [${labels.shape.join(', ')}] and logits [${logits.shape.join(', ')}] must both be [rows, classes]`);
  }
  return [labels, logits, logits.shape[0]!, logits.shape[1]!];
}

function readDy(inputs: tf.NamedTensorInfoMap): tf.TensorInfo {
  const { dy } = inputs;
  if (dy === undefined || dy.dtype !== 'float32' || tf.util.sizeFromShape(dy.shape) !== 1) {
    throw new QatError(`${SOFTMAX_CE_GRAD_KERNEL}: input dy must be a float32 scalar; got ${dy === undefined ? 'nothing' : `${dy.dtype} [${dy.shape.join(', ')}]`}`);
  }
  return dy;
}

function f32View(v: unknown, kernel: string, k: string): Float32Array {
  if (!(v instanceof Float32Array)) throw new QatError(`${kernel}: input '${k}' is not backed by a Float32Array`);
  return v;
}

function cpuView(v: unknown, kernel: string, k: string): Values {
  if (v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint8Array) return v;
  throw new QatError(`${kernel}: cpu input '${k}' is not backed by a numeric typed array`);
}

function wasmForward({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const b = asWasmBackend(backend);
  const [labels, logits, rows, classes] = readPair(inputs, SOFTMAX_CE_KERNEL);
  const out = b.makeOutput([], 'float32'); // allocate first: malloc may detach earlier heap views
  const v = (t: tf.TensorInfo, k: string): Float32Array => f32View(b.typedArrayFromHeap(t), SOFTMAX_CE_KERNEL, k);
  v(out, 'out')[0] = forward(labels, logits, v(labels, 'labels'), v(logits, 'logits'), rows, classes, 'wasm');
  return out;
}

function wasmBackward({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const b = asWasmBackend(backend);
  const [labels, logits, rows, classes] = readPair(inputs, SOFTMAX_CE_GRAD_KERNEL);
  const dy = readDy(inputs);
  const out = b.makeOutput([rows, classes], 'float32');
  const v = (t: tf.TensorInfo, k: string): Float32Array => f32View(b.typedArrayFromHeap(t), SOFTMAX_CE_GRAD_KERNEL, k);
  const l = v(labels, 'labels');
  const probs = probsFor(labels, logits, l, v(logits, 'logits'), rows, classes, 'wasm');
  softmaxCEGradLoop(v(dy, 'dy')[0]!, l, probs, rows, v(out, 'out'));
  return out;
}

function cpuForward({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const b = asCpuBackend(backend);
  const [labels, logits, rows, classes] = readPair(inputs, SOFTMAX_CE_KERNEL);
  const v = (t: tf.TensorInfo, k: string): Values => cpuView(b.readSync(t.dataId), SOFTMAX_CE_KERNEL, k);
  const loss = forward(labels, logits, v(labels, 'labels'), v(logits, 'logits'), rows, classes, 'cpu');
  return b.makeTensorInfo([], 'float32', Float32Array.of(loss));
}

function cpuBackward({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const b = asCpuBackend(backend);
  const [labels, logits, rows, classes] = readPair(inputs, SOFTMAX_CE_GRAD_KERNEL);
  const dy = readDy(inputs);
  const v = (t: tf.TensorInfo, k: string): Values => cpuView(b.readSync(t.dataId), SOFTMAX_CE_GRAD_KERNEL, k);
  const out = new Float32Array(rows * classes);
  const l = v(labels, 'labels');
  softmaxCEGradLoop(v(dy, 'dy')[0]!, l, probsFor(labels, logits, l, v(logits, 'logits'), rows, classes, 'cpu'), rows, out);
  return b.makeTensorInfo([rows, classes], 'float32', out);
}

// ---------------------------------------------------------------- registration

/** ∂loss/∂logits through 'QatSoftmaxCEGrad' (dy is the loss' upstream gradient, a scalar). */
function gradOfLogits(dy: tf.Tensor, labels: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel(SOFTMAX_CE_GRAD_KERNEL, { dy, labels, logits }) as tf.Tensor;
}

let registered = false;

/**
 * Register both kernels for wasm and cpu and the gradient of 'QatSoftmaxCE' (once; later calls are no-ops).
 * 'QatSoftmaxCEGrad' has no gradient (no second derivatives through this loss).
 */
export function registerSoftmaxCEKernels(): void {
  if (registered) return;
  registered = true;
  const funcs = {
    wasm: [wasmForward, wasmBackward],
    cpu: [cpuForward, cpuBackward],
  } as const;
  for (const backendName of SOFTMAX_CE_BACKENDS) {
    const [fwd, bwd] = funcs[backendName];
    if (tf.getKernel(SOFTMAX_CE_KERNEL, backendName) === undefined) {
      tf.registerKernel({ kernelName: SOFTMAX_CE_KERNEL, backendName, kernelFunc: fwd as unknown as tf.KernelFunc });
    }
    if (tf.getKernel(SOFTMAX_CE_GRAD_KERNEL, backendName) === undefined) {
      tf.registerKernel({ kernelName: SOFTMAX_CE_GRAD_KERNEL, backendName, kernelFunc: bwd as unknown as tf.KernelFunc });
    }
  }
  if (tf.getGradient(SOFTMAX_CE_KERNEL) === undefined) {
    tf.registerGradient({
      kernelName: SOFTMAX_CE_KERNEL, inputsToSave: ['labels', 'logits'],
      gradFunc: (dy, saved) => {
        const [labels, logits] = saved;
        if (labels === undefined || logits === undefined || Array.isArray(dy)) {
          throw new QatError(`${SOFTMAX_CE_KERNEL} gradient: the saved inputs labels and logits are missing`);
        }
        return {
          logits: () => gradOfLogits(dy, labels, logits),
          // tfjs' custom gradient gives labels exactly the negated logits gradient (sub is antisymmetric in float)
          labels: () => tf.neg(gradOfLogits(dy, labels, logits)),
        };
      },
    });
  }
}
