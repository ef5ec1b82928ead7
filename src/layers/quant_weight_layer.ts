/**
 * The template of every layer with a quantized weight (Brevitas `QuantWBIOL.forward_impl`):
 * weight mask (pruning) -> weight quantizer -> bias quantizer -> innerCall(x, wq, bq).
 * Subclasses (QuantLinear, QuantConv2D) implement only shapes, `innerCall` and `fanIn`.
 */
import * as tf from '@tensorflow/tfjs';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables.js';
import type { Initializer } from '@tensorflow/tfjs-layers/dist/initializers.js';
import { ConfigError } from '../errors.js';
import { normalizeEnum, type WeightQuantConfig } from '../quant/config.js';
import { biasQuant, weightQuant, WEIGHT_PRESETS, type BiasPresetName, type WeightPresetName } from '../quant/presets.js';
import { intThreshold, potIntThreshold, worstCaseAccumulatorBits } from '../quant/int_range.js';
import { absMaxScale } from '../quant/scaling.js';
import { fakeQuantize, fakeQuantizeWeight, quantizeToInt } from '../quant/fake_quant.js';
import { exactEvalForward } from './exact_eval.js';
import { moveToOutermostScope } from './scope.js';
import { upstreamProvider, type QuantMeta } from './quant_meta.js';

/** Initializer: a tfjs initializer object or identifier (e.g. 'glorotUniform'). */
export type InitializerLike = Initializer | string;

/** Weight and bias options shared by QuantLinear and QuantConv2D. */
export interface QuantWeightArgs extends LayerArgs {
  /** @default true */
  useBias?: boolean;
  /** Weight bit width. @default 8 */
  weightBitWidth?: number;
  /** Brevitas weight preset. @default 'Int8WeightPerTensorFloat' */
  weightQuant?: WeightPresetName;
  /** Narrow weight range (drop -2^(b-1)). @default true */
  weightNarrowRange?: boolean;
  /** Bias quantization: 'none' (float) or 'Int32Bias' (scale = input scale x weight scale). @default 'none' */
  biasQuant?: BiasPresetName;
  /** @default 'glorotUniform' */
  kernelInitializer?: InitializerLike;
  /** @default 'zeros' */
  biasInitializer?: InitializerLike;
}

/** Integer weights of a layer and their scale(s). */
export interface IntWeights {
  /** Integer values in the kernel's tfjs layout. */
  readonly values: Int32Array;
  readonly shape: readonly number[];
  /** One scale (per tensor) or one per output channel. */
  readonly scale: Float32Array;
}

function resolveInitializer(x: InitializerLike | undefined, dflt: string): Initializer {
  const id = x ?? dflt;
  if (typeof id !== 'string') return id;
  const table: Record<string, () => Initializer> = {
    glorotUniform: () => tf.initializers.glorotUniform({}),
    glorotNormal: () => tf.initializers.glorotNormal({}),
    heUniform: () => tf.initializers.heUniform({}),
    heNormal: () => tf.initializers.heNormal({}),
    zeros: () => tf.initializers.zeros(),
    ones: () => tf.initializers.ones(),
  };
  const f = table[id];
  if (f === undefined) throw new ConfigError(`unknown initializer '${id}'; use one of ${Object.keys(table).join(', ')} or a tf.initializers object`);
  return f();
}

/** Base class of QuantLinear and QuantConv2D. */
export abstract class QuantWeightLayer extends tf.layers.Layer {
  readonly useBias: boolean;
  readonly weightPreset: WeightPresetName;
  /** The resolved weight quantizer. */
  readonly weightQuantConfig: WeightQuantConfig;
  /** 'none' or 'int32'. */
  readonly biasQuantMode: 'none' | 'int32';
  protected kernel: LayerVariable | null = null;
  protected bias: LayerVariable | null = null;
  private mask: tf.Tensor | null = null;
  /** Quantized kernel and scale reused by forwards without a gradient tape, keyed by the kernel's data and the mask. */
  private evalCache: { dataId: object; mask: tf.Tensor | null; wq: tf.Tensor; sw: tf.Tensor; wInt: tf.Tensor | null } | null = null;
  protected readonly kernelInitializer: Initializer;
  protected readonly biasInitializer: Initializer;

  constructor(args: QuantWeightArgs) {
    super(args);
    this.useBias = args.useBias ?? true;
    this.weightPreset = args.weightQuant === undefined ? 'Int8WeightPerTensorFloat' : normalizeEnum(args.weightQuant, WEIGHT_PRESETS, `${this.constructor.name}.weightQuant`);
    const o: { bitWidth?: number; narrowRange?: boolean } = {};
    if (args.weightBitWidth !== undefined) o.bitWidth = args.weightBitWidth;
    if (args.weightNarrowRange !== undefined) o.narrowRange = args.weightNarrowRange;
    this.weightQuantConfig = weightQuant(this.weightPreset, o);
    this.biasQuantMode = biasQuant(args.biasQuant ?? 'none');
    this.kernelInitializer = resolveInitializer(args.kernelInitializer, 'glorotUniform');
    this.biasInitializer = resolveInitializer(args.biasInitializer, 'zeros');
  }

  /** Weight bit width. */
  get weightBitWidth(): number {
    return this.weightQuantConfig.bitWidth;
  }

  /** The int threshold of the weight scale: max|W| / T. */
  get weightThreshold(): number {
    const c = this.weightQuantConfig;
    return c.restrict === 'powerOfTwo' ? potIntThreshold(c) : intThreshold(c);
  }

  /** Kernel shape in tfjs layout. */
  protected abstract kernelShape(inputShape: tf.Shape): number[];
  /** Number of output channels (last kernel axis). */
  protected abstract outputChannels(): number;
  /** The layer's linear operation on float tensors (x, quantized kernel, optional quantized bias). */
  protected abstract innerCall(x: tf.Tensor, wq: tf.Tensor, bq: tf.Tensor | null): tf.Tensor;

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    this.kernel = this.addWeight('kernel', this.kernelShape(shape), 'float32', this.kernelInitializer, undefined, true);
    if (this.useBias) this.bias = this.addWeight('bias', [this.outputChannels()], 'float32', this.biasInitializer, undefined, true);
    this.built = true;
  }

  protected kernelVar(): LayerVariable {
    if (this.kernel === null) throw new ConfigError(`${this.name}: the layer is not built yet; call it on an input (or add it to a model) first`);
    return this.kernel;
  }

  /** The float kernel after the pruning mask (what the quantizer sees). */
  protected maskedKernel(): tf.Tensor {
    const w = this.kernelVar().read();
    return this.mask === null ? w : tf.mul(w, this.mask);
  }

  /** The weight scale tensor ([1,..,1] or per channel [1,..,1,C]) computed from the current kernel. */
  weightScaleTensor(w?: tf.Tensor): tf.Tensor {
    return absMaxScale(w ?? this.maskedKernel(), { threshold: this.weightThreshold, perChannel: this.weightQuantConfig.perChannel, restrict: this.weightQuantConfig.restrict });
  }

  /** Fake-quantized kernel (differentiable, Brevitas' gradients). */
  quantizedKernel(): tf.Tensor {
    return tf.tidy(() => this.quantizeKernel(this.maskedKernel()).wq);
  }

  /** Weight quantizer on `w`: the fused weight fake-quant (one kernel, one gradient kernel on wasm/cpu). */
  private quantizeKernel(w: tf.Tensor): { wq: tf.Tensor; scale: tf.Tensor } {
    const c = this.weightQuantConfig;
    return fakeQuantizeWeight(w, { bitWidth: c.bitWidth, signed: c.signed, narrowRange: c.narrowRange, threshold: this.weightThreshold, perChannel: c.perChannel, restrict: c.restrict });
  }

  /**
   * The quantized kernel and its scale for this forward. With no gradient tape recording (inference, e.g.
   * model.predict) the result is cached until the kernel's data (a new dataId after every assignment) or the
   * mask changes: the quantized weights depend on nothing else.
   */
  private forwardKernel(): { wq: tf.Tensor; sw: tf.Tensor } {
    const st = tf.engine().state;
    const taping = st.gradientDepth > 0 && st.kernelDepth === 0;
    if (taping) {
      const { wq, scale } = this.quantizeKernel(this.maskedKernel());
      return { wq, sw: scale };
    }
    const dataId = this.kernelVar().read().dataId as object;
    const c = this.evalCache;
    if (c !== null && c.dataId === dataId && c.mask === this.mask && !c.wq.isDisposed) return { wq: c.wq, sw: c.sw };
    this.clearEvalCache();
    const { wq, scale } = this.quantizeKernel(this.maskedKernel());
    moveToOutermostScope(wq);
    moveToOutermostScope(scale);
    this.evalCache = { dataId, mask: this.mask, wq, sw: scale, wInt: null };
    return { wq, sw: scale };
  }

  /**
   * The integer weights round(wq / sw) for the integer-exact inference path, kept with the eval cache (once per
   * `model.predict`, not per batch). Call after `forwardKernel()` outside a gradient tape.
   */
  private intKernel(wq: tf.Tensor, sw: tf.Tensor): tf.Tensor {
    const c = this.evalCache;
    if (c !== null && c.wq === wq && c.wInt !== null && !c.wInt.isDisposed) return c.wInt;
    const wInt = tf.round(tf.div(wq, sw));
    if (c !== null && c.wq === wq) {
      moveToOutermostScope(wInt);
      c.wInt = wInt;
    }
    return wInt;
  }

  private clearEvalCache(): void {
    if (this.evalCache !== null) {
      this.evalCache.wq.dispose();
      this.evalCache.sw.dispose();
      this.evalCache.wInt?.dispose();
    }
    this.evalCache = null;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    void kwargs;
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (x === undefined) throw new ConfigError(`${this.name} expects one input tensor`);
      const { wq, sw } = this.forwardKernel();
      const st = tf.engine().state;
      if (!(st.gradientDepth > 0 && st.kernelDepth === 0)) {
        // inference: the integer-exact path (the exported circuit's arithmetic) when it applies
        const bias = this.useBias && this.bias !== null ? this.bias.read() : null;
        const exact = exactEvalForward(this, x, () => this.intKernel(wq, sw), sw, bias, (a, w) => this.innerCall(a, w, null));
        if (exact !== null) return exact;
      }
      let bq: tf.Tensor | null = null;
      if (this.useBias && this.bias !== null) {
        const b = this.bias.read();
        if (this.biasQuantMode === 'int32') {
          const sIn = this.inputScaleTensor();
          const sb = tf.reshape(tf.mul(sIn, sw), [-1]);
          bq = fakeQuantize(b, { scale: sb, bitWidth: 32, signed: true, narrowRange: false, clampGrad: 'ste' });
        } else {
          bq = b;
        }
      }
      return this.innerCall(x, wq, bq);
    });
  }

  /** The scale of this layer's quantized input in the current forward. @throws ConfigError for a float input. */
  protected inputScaleTensor(): tf.Tensor {
    const p = upstreamProvider(this);
    const s = p?.lastOutputScale() ?? null;
    if (p === null || s === null) {
      throw new ConfigError(`${this.name}: biasQuant 'Int32Bias' needs a quantized input (its scale is input scale x weight scale), ` +
        `but the input is float; put a QuantIdentity (or QuantReLU) right before this layer, or use biasQuant: 'none'`);
    }
    return s;
  }

  /** Set (or clear with null) a 0/1 pruning mask with the kernel's shape; pruned weights quantize to 0 and get no gradient. */
  setWeightMask(mask: tf.Tensor | null): void {
    if (this.mask !== null) this.mask.dispose();
    this.mask = null;
    if (mask === null) return;
    const ks = this.kernelVar().shape;
    if (mask.shape.length !== ks.length || mask.shape.some((d, i) => d !== ks[i])) {
      throw new ConfigError(`${this.name}.setWeightMask: mask shape [${mask.shape.join(',')}] differs from the kernel shape [${ks.join(',')}]`);
    }
    this.mask = tf.keep(tf.tidy(() => tf.cast(mask, 'float32').clone()));
  }

  /** The pruning mask, or null. */
  getWeightMask(): tf.Tensor | null {
    return this.mask;
  }

  /** Fan-in of one output channel (in_features, or kh*kw*cin). */
  fanIn(): number {
    const ks = this.kernelVar().shape as number[];
    return ks.slice(0, -1).reduce((a, b) => a * b, 1);
  }

  /** Largest number of non-zero (unmasked and non-zero integer) weights of any output channel. */
  activeFanIn(): number {
    const { values, shape } = this.getIntWeights();
    const c = shape[shape.length - 1] ?? 1;
    const counts = new Array<number>(c).fill(0);
    for (let i = 0; i < values.length; i++) if (values[i] !== 0) counts[i % c] = (counts[i % c] ?? 0) + 1;
    return Math.max(0, ...counts);
  }

  /**
   * Worst-case accumulator bit width for an input of `inputBitWidth` bits:
   * ceil(log2((2^inBw - 1) * (2^wBw - 1) * fanIn)), fanIn counting only non-zero weights of the worst channel.
   */
  worstCaseAccumulatorBitWidth(inputBitWidth: number): number {
    return worstCaseAccumulatorBits(inputBitWidth, this.weightBitWidth, this.activeFanIn());
  }

  /** The eval-time integer weights and their scale(s). */
  getIntWeights(): IntWeights {
    const { ints, scale, shape } = tf.tidy(() => {
      const w = this.maskedKernel();
      const s = this.weightScaleTensor(w);
      return { ints: quantizeToInt(w, { ...this.weightQuantConfig, scale: s }), scale: tf.reshape(s, [-1]), shape: w.shape };
    });
    const values = Int32Array.from(ints.dataSync());
    const sc = Float32Array.from(scale.dataSync());
    ints.dispose();
    scale.dispose();
    return { values, shape, scale: sc };
  }

  /** The float bias (or null). Int32Bias integers come from `getIntBias(inputScale)`. */
  getFloatBias(): Float32Array | null {
    return this.bias === null ? null : Float32Array.from(this.bias.read().dataSync());
  }

  /** Grid of this layer's accumulator output given its input grid (Brevitas' QuantTensor propagation). */
  accumulatorMeta(input: QuantMeta): QuantMeta {
    const ws = this.getIntWeights().scale;
    const sIn = typeof input.scale === 'number' ? input.scale : (input.scale[0] ?? NaN);
    const scale = Array.from(ws, (s) => Math.fround(sIn * s));
    return { scale: scale.length === 1 ? (scale[0] ?? NaN) : scale, zeroPoint: 0, bitWidth: this.worstCaseAccumulatorBitWidth(input.bitWidth), signed: true, narrowRange: false };
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      useBias: this.useBias,
      weightBitWidth: this.weightQuantConfig.bitWidth,
      weightQuant: this.weightPreset,
      weightNarrowRange: this.weightQuantConfig.narrowRange,
      biasQuant: this.biasQuantMode === 'int32' ? 'Int32Bias' : 'none',
    };
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    this.clearEvalCache();
    if (this.mask !== null) this.mask.dispose();
    this.mask = null;
    return super.dispose();
  }
}
