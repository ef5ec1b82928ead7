/**
 * FusedAdam: tf.train.adam with one kernel call per variable ('QatAdam', see fused_adam_kernel.ts) instead of ~13
 * tensor ops. Same numbers as tfjs' AdamOptimizer on the same backend (identical float32 op order), same state:
 * class name 'Adam', the same `<name>/m` and `<name>/v` accumulator variables, getWeights/setWeights and
 * iterations, so saved optimizer state moves freely between the two. Backends other than wasm/cpu, and
 * non-float32 variables, take tfjs' own path.
 */
import * as tf from '@tensorflow/tfjs';
import { withVariableOnlyGradients } from '../layers/grad_scope.js';
import { ADAM_KERNEL, registerAdamKernels, wasmAdamAvailable, type AdamKernelAttrs } from './fused_adam_kernel.js';

/** tfjs' OptimizerVariable. */
interface AccumulatorSlot {
  originalName: string;
  variable: tf.Variable;
}

/** The AdamOptimizer fields that tfjs declares private (same object, read through this view). */
interface AdamInternals {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: AccumulatorSlot[];
  accumulatedSecondMoment: AccumulatorSlot[];
}

type Gradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];

/** Whether the active backend has a usable 'QatAdam' kernel. */
function fusedBackend(): boolean {
  const name = tf.getBackend();
  if (name === 'cpu') return true;
  return name === 'wasm' && wasmAdamAvailable(tf.backend());
}

/**
 * Adam with a fused per-variable update on the wasm and cpu backends; bit-identical to `tf.train.adam` there.
 * @example const opt = new FusedAdam(1e-3, 0.9, 0.999, 1e-8); opt.minimize(lossFn);
 */
export class FusedAdam extends tf.AdamOptimizer {
  /**
   * @param learningRate step size.
   * @param beta1 first-moment decay.
   * @param beta2 second-moment decay.
   * @param epsilon added to √v̂; null/undefined = the backend's epsilon (like tf.train.adam).
   */
  constructor(learningRate: number, beta1: number, beta2: number, epsilon?: number | null) {
    super(learningRate, beta1, beta2, epsilon ?? undefined);
    registerAdamKernels();
  }

  /**
   * tfjs' computeGradients with the loss function run under `withVariableOnlyGradients` (minimize differentiates
   * with respect to variables only, so a quantizer may skip a gradient that only feeds a zero; see grad_scope.ts).
   */
  override computeGradients(f: () => tf.Scalar, varList?: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
    return super.computeGradients(() => withVariableOnlyGradients(f), varList);
  }

  /** Apply one Adam step (fused on wasm/cpu with float32 variables; tfjs' ops otherwise). */
  override applyGradients(variableGradients: Gradients): void {
    const isList = Array.isArray(variableGradients);
    const names = isList ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const gradOf = (name: string, i: number): tf.Tensor | undefined =>
      isList ? variableGradients[i]?.tensor : variableGradients[name];
    const registered = tf.engine().registeredVariables;
    const fusable = fusedBackend() && names.every((n, i) => {
      const g = gradOf(n, i);
      return registered[n]?.dtype === 'float32' && (g === undefined || g === null || g.dtype === 'float32');
    });
    if (!fusable) {
      super.applyGradients(variableGradients);
      return;
    }
    const self = this as unknown as AdamInternals;
    tf.tidy(() => {
      const acc1 = self.accBeta1.dataSync()[0]!;
      const acc2 = self.accBeta2.dataSync()[0]!;
      const attrs: AdamKernelAttrs = {
        beta1: this.beta1, beta2: this.beta2, learningRate: this.learningRate, epsilon: this.epsilon,
        oneMinusAccBeta1: Math.fround(1 - acc1), oneMinusAccBeta2: Math.fround(1 - acc2),
      };
      const kernelAttrs = attrs as unknown as tf.NamedAttrMap;
      names.forEach((name, i) => {
        const value = registered[name]!;
        self.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        self.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        const grad = gradOf(name, i);
        if (grad === undefined || grad === null) return;
        const m = self.accumulatedFirstMoment[i].variable;
        const v = self.accumulatedSecondMoment[i].variable;
        const outs = tf.engine().runKernel(ADAM_KERNEL, { value, m, v, grad }, kernelAttrs) as tf.Tensor[];
        m.assign(outs[1]!);
        v.assign(outs[2]!);
        value.assign(outs[0]!);
      });
      // accβ ← f32(accβ · f32(β)): the float32 product tfjs' mul computes.
      self.accBeta1.assign(tf.scalar(Math.fround(acc1 * Math.fround(this.beta1))));
      self.accBeta2.assign(tf.scalar(Math.fround(acc2 * Math.fround(this.beta2))));
    });
    this.incrementIterations();
  }
}

/**
 * A FusedAdam (same arguments and defaults as `tf.train.adam`).
 * @param learningRate step size. @default 0.001
 * @param beta1 first-moment decay. @default 0.9
 * @param beta2 second-moment decay. @default 0.999
 * @param epsilon added to √v̂. @default the backend's epsilon (1e-7 for float32)
 */
export function fusedAdam(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon?: number): FusedAdam {
  return new FusedAdam(learningRate, beta1, beta2, epsilon);
}
