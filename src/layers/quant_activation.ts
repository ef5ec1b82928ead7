/**
 * QuantIdentity and QuantReLU: activation fake-quantizers with Brevitas' runtime-statistics scale
 * (brevitas-semantics.md §5). State: counter, buffer (running statistic) and value (learned clip value),
 * all stored as layer weights so that saving keeps them.
 */
import * as tf from '@tensorflow/tfjs';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables.js';
import { ConfigError } from '../errors.js';
import { actQuant, ACT_PRESETS, type ActPresetName } from '../quant/presets.js';
import type { ActQuantConfig } from '../quant/config.js';
import { normalizeEnum } from '../quant/config.js';
import { activationScaleParts, activationScaleStep, learnedValueFromBuffer, needsLearnedSwitch, actThreshold, statsStepFakeQuant } from '../quant/act_scale.js';
import { fakeQuantize, fakeQuantizeClipped, quantizeToInt } from '../quant/fake_quant.js';
import { replaceKept, type QuantMeta, type QuantOutputProvider } from './quant_meta.js';
import { singleTensor } from './util.js';
import { inputNeedsNoGradient, markZeroGradOnly } from './grad_scope.js';


/** Options of QuantIdentity / QuantReLU. */
export interface QuantActivationArgs extends LayerArgs {
  /** Bit width of the activation grid. @default 8 */
  bitWidth?: number;
  /** Signed grid. @default true for QuantIdentity, false for QuantReLU */
  signed?: boolean;
  /** Narrow range. @default false */
  narrowRange?: boolean;
  /** Brevitas preset. @default 'Int8ActPerTensorFloat' (QuantIdentity) / 'Uint8ActPerTensorFloat' (QuantReLU) */
  actQuant?: ActPresetName;
  /** Training forwards that collect statistics before the clip value becomes a learned parameter. @default 300 */
  collectStatsSteps?: number;
  /** A constant scale instead of runtime statistics. */
  constScale?: number;
}

/** Readable/settable state of an activation quantizer. */
export interface QuantActState {
  /** Training forwards seen (collectStatsSteps + 1 once in the learned phase). */
  counter: number;
  /** Running statistic (clip value, input units). */
  buffer: number;
  /** Learned clip value (log2 of it for PoT presets). */
  value: number;
}

/** Shared implementation of QuantIdentity and QuantReLU. */
export abstract class QuantActivation extends tf.layers.Layer implements QuantOutputProvider {
  /** The resolved quantizer config. */
  readonly quant: ActQuantConfig;
  readonly preset: ActPresetName;
  protected readonly applyRelu: boolean;
  private counterVar: LayerVariable | null = null;
  private bufferVar: LayerVariable | null = null;
  private valueVar: LayerVariable | null = null;
  private lastScale: tf.Tensor | null = null;
  /** JS copy of the counter, valid while the counter variable still holds the same data (dataId). */
  private counterMirror: { dataId: object; value: number } | null = null;
  private readonly rawArgs: QuantActivationArgs;

  constructor(args: QuantActivationArgs, relu: boolean) {
    super(args);
    this.applyRelu = relu;
    this.rawArgs = { ...args };
    const defaultPreset: ActPresetName = relu ? 'Uint8ActPerTensorFloat' : 'Int8ActPerTensorFloat';
    this.preset = args.actQuant === undefined ? defaultPreset : normalizeEnum(args.actQuant, ACT_PRESETS, `${this.constructor.name}.actQuant`);
    const o: Parameters<typeof actQuant>[1] = {};
    if (args.bitWidth !== undefined) o.bitWidth = args.bitWidth;
    if (args.signed !== undefined) o.signed = args.signed;
    if (args.narrowRange !== undefined) o.narrowRange = args.narrowRange;
    if (args.collectStatsSteps !== undefined) o.collectStatsSteps = args.collectStatsSteps;
    if (args.constScale !== undefined) o.constScale = args.constScale;
    this.quant = actQuant(this.preset, o);
    this.supportsMasking = true;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    void inputShape;
    this.counterVar = this.addWeight('counter', [], 'float32', tf.initializers.zeros(), undefined, false);
    this.bufferVar = this.addWeight('buffer', [], 'float32', tf.initializers.ones(), undefined, false);
    this.valueVar = this.addWeight('value', [], 'float32', tf.initializers.ones(), undefined, this.quant.scaling.kind === 'runtimeStats');
    this.built = true;
  }

  private vars(): { counter: LayerVariable; buffer: LayerVariable; value: LayerVariable } {
    if (this.counterVar === null || this.bufferVar === null || this.valueVar === null) {
      throw new ConfigError(`${this.name}: the layer is not built yet; call it on an input (or add it to a model) first`);
    }
    return { counter: this.counterVar, buffer: this.bufferVar, value: this.valueVar };
  }

  /** The int threshold T: scale = clip / T. */
  get threshold(): number {
    return actThreshold(this.quant);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x0 = singleTensor(inputs, this.name);
      const training = kwargs['training'] === true;
      const v = this.vars();
      let counter = this.readCounter();
      if (training && needsLearnedSwitch(this.quant, counter)) {
        v.value.write(learnedValueFromBuffer(v.buffer.read(), this.quant));
        counter += 1;
        this.writeCounter(counter);
      }
      // QuantReLU: the ReLU is fused into the statistic and into the quantizer (relu(x) is never a separate tensor).
      const relu = this.applyRelu;
      const state = { counter, buffer: v.buffer.read(), value: v.value.read() };
      const fused = statsStepFakeQuant(x0, this.quant, state, training, { relu });
      let out: tf.Tensor;
      let collecting: boolean;
      if (fused !== null) {
        // statistics phase in one kernel (statistic, buffer EMA, quantizer)
        v.buffer.write(fused.buffer);
        this.writeCounter(fused.counter);
        this.lastScale = replaceKept(this.lastScale, fused.scale);
        out = fused.out;
        collecting = true;
      } else {
        const step = activationScaleParts(x0, this.quant, state, training, { relu });
        if (step.buffer !== undefined) v.buffer.write(step.buffer);
        if (step.counter !== counter) this.writeCounter(step.counter);
        if (step.clip !== undefined) {
          // scale = clip / T, folded into the quantizer kernel
          const r = fakeQuantizeClipped(x0, step.clip, step.threshold, { ...this.quant, clampGrad: 'mask', relu });
          this.lastScale = replaceKept(this.lastScale, r.scale);
          out = r.out;
        } else {
          this.lastScale = replaceKept(this.lastScale, step.scale);
          out = fakeQuantize(x0, { ...this.quant, scale: step.scale, clampGrad: 'mask', relu });
        }
        collecting = step.buffer !== undefined;
      }
      // Statistics phase on data: the output's gradient only feeds `0 * value` (grad_scope.ts).
      if (collecting && inputNeedsNoGradient(x0)) markZeroGradOnly(out);
      return out;
    });
  }

  /** The counter, read from the variable only when its data changed since the last read or write (no sync per forward). */
  private readCounter(): number {
    const t = this.vars().counter.read();
    const m = this.counterMirror;
    if (m !== null && m.dataId === t.dataId) return m.value;
    const value = t.dataSync()[0] ?? 0;
    this.counterMirror = { dataId: t.dataId as object, value };
    return value;
  }

  private writeCounter(c: number): void {
    const v = this.vars().counter;
    v.write(tf.scalar(c));
    this.counterMirror = { dataId: v.read().dataId as object, value: Math.fround(c) };
  }

  /** The quantizer state (Brevitas: counter, buffer, value). */
  getQuantState(): QuantActState {
    const v = this.vars();
    return {
      counter: this.readCounter(),
      buffer: v.buffer.read().dataSync()[0] ?? 1,
      value: v.value.read().dataSync()[0] ?? 1,
    };
  }

  /** Set any part of the quantizer state. */
  setQuantState(s: Partial<QuantActState>): void {
    const v = this.vars();
    for (const [k, val] of Object.entries(s)) {
      if (val === undefined) continue;
      if (typeof val !== 'number' || !Number.isFinite(val)) throw new ConfigError(`${this.name}.setQuantState: ${k} must be a finite number, got ${String(val)}`);
    }
    tf.tidy(() => {
      if (s.counter !== undefined) this.writeCounter(s.counter);
      if (s.buffer !== undefined) v.buffer.write(tf.scalar(s.buffer));
      if (s.value !== undefined) v.value.write(tf.scalar(s.value));
    });
  }

  /**
   * Load Brevitas' state_dict `...scaling_impl.value`: sets value and moves to the learned phase
   * (counter = collectStatsSteps + 1), as Brevitas' _load_from_state_dict. The scale is then value / T.
   */
  loadBrevitasValue(value: number): void {
    const steps = this.quant.scaling.kind === 'runtimeStats' ? this.quant.scaling.collectStatsSteps : 0;
    this.setQuantState({ value, counter: steps + 1 });
  }

  /** The current eval-mode scale (a number). */
  evalScale(): number {
    return tf.tidy(() => {
      const v = this.vars();
      const step = activationScaleStep(tf.zeros([1]), this.quant, { counter: this.readCounter(), buffer: v.buffer.read(), value: v.value.read() }, false);
      return step.scale.dataSync()[0] ?? NaN;
    });
  }

  outputQuantMeta(): QuantMeta {
    return { scale: this.evalScale(), zeroPoint: 0, bitWidth: this.quant.bitWidth, signed: this.quant.signed, narrowRange: this.quant.narrowRange };
  }

  outputGrid(): { bitWidth: number; signed: boolean; narrowRange: boolean } {
    return { bitWidth: this.quant.bitWidth, signed: this.quant.signed, narrowRange: this.quant.narrowRange };
  }

  lastOutputScale(): tf.Tensor | null {
    return this.lastScale !== null && !this.lastScale.isDisposed ? this.lastScale : null;
  }

  /** Integers of `x` under the eval-mode scale (what the circuit's input quantizer computes). */
  quantizeEvalInt(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => quantizeToInt(x, { ...this.quant, scale: this.evalScale(), relu: this.applyRelu }));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const c: tf.serialization.ConfigDict = {
      bitWidth: this.quant.bitWidth,
      signed: this.quant.signed,
      narrowRange: this.quant.narrowRange,
      actQuant: this.preset,
    };
    if (this.rawArgs.collectStatsSteps !== undefined) c['collectStatsSteps'] = this.rawArgs.collectStatsSteps;
    if (this.rawArgs.constScale !== undefined) c['constScale'] = this.rawArgs.constScale;
    return { ...super.getConfig(), ...c };
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    if (this.lastScale !== null && !this.lastScale.isDisposed) this.lastScale.dispose();
    this.lastScale = null;
    return super.dispose();
  }
}

/**
 * QuantIdentity: fake-quantizes its input (Brevitas `QuantIdentity`, default Int8ActPerTensorFloat:
 * signed 8-bit, T = 128). The first layer of every mixed-integer model.
 */
export class QuantIdentity extends QuantActivation {
  static className = 'QuantIdentity';
  constructor(args: QuantActivationArgs = {}) {
    super(args, false);
  }
}
tf.serialization.registerClass(QuantIdentity);

/** QuantReLU: relu then an unsigned activation quantizer (Brevitas `QuantReLU`, Uint8ActPerTensorFloat, T = 255). */
export class QuantReLU extends QuantActivation {
  static className = 'QuantReLU';
  constructor(args: QuantActivationArgs = {}) {
    super(args, true);
  }
}
tf.serialization.registerClass(QuantReLU);

/** Factory: `quantIdentity({bitWidth: 4})`, like `tf.layers.*`. */
export function quantIdentity(args: QuantActivationArgs = {}): QuantIdentity {
  return new QuantIdentity(args);
}

/** Factory: `quantReLU({bitWidth: 4})`. */
export function quantReLU(args: QuantActivationArgs = {}): QuantReLU {
  return new QuantReLU(args);
}
