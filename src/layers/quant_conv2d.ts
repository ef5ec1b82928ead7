/** QuantConv2D: an NHWC 2-D convolution with fake-quantized weights (Brevitas `QuantConv2d`). */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import { conv2dWeightGradOnly, isZeroGradOnly, type ConvPad } from './grad_scope.js';
import { QuantWeightLayer, type QuantWeightArgs } from './quant_weight_layer.js';

/** Padding: tfjs' 'valid' / 'same', or a number p = PyTorch's symmetric `padding=p`. */
export type ConvPadding = 'valid' | 'same' | number;

/** Options of QuantConv2D. */
export interface QuantConv2DArgs extends QuantWeightArgs {
  /** Output channels (required). */
  filters: number;
  /** Kernel size, square or [kh, kw] (required). */
  kernelSize: number | [number, number];
  /** @default 1 */
  strides?: number | [number, number];
  /** @default 'valid' */
  padding?: ConvPadding;
}

function pair(v: number | [number, number], what: string): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : v;
  if (!p.every((d) => Number.isInteger(d) && d >= 1)) throw new ConfigError(`QuantConv2D: ${what} must be positive integers, got ${JSON.stringify(v)}`);
  return p;
}

/** NHWC conv2d with kernel [kh, kw, cin, cout] quantized per tensor or per output channel. */
export class QuantConv2D extends QuantWeightLayer {
  static className = 'QuantConv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: ConvPadding;

  constructor(args: QuantConv2DArgs) {
    super(args);
    if (!Number.isInteger(args.filters) || args.filters < 1) throw new ConfigError(`QuantConv2D: filters must be a positive integer, got ${String(args.filters)}`);
    this.filters = args.filters;
    this.kernelSize = pair(args.kernelSize, 'kernelSize');
    this.strides = pair(args.strides ?? 1, 'strides');
    const p = args.padding ?? 'valid';
    if (!(p === 'valid' || p === 'same' || (typeof p === 'number' && Number.isInteger(p) && p >= 0))) {
      throw new ConfigError(`QuantConv2D: padding must be 'valid', 'same' or a non-negative integer, got ${JSON.stringify(p)}`);
    }
    this.padding = p;
  }

  protected kernelShape(inputShape: tf.Shape): number[] {
    const cin = inputShape[3];
    if (inputShape.length !== 4 || cin === null || cin === undefined) {
      throw new ConfigError(`${this.name}: expects NHWC input [batch, height, width, channels], got [${inputShape.join(',')}]`);
    }
    return [this.kernelSize[0], this.kernelSize[1], cin, this.filters];
  }

  protected outputChannels(): number {
    return this.filters;
  }

  /** The padding argument for tf.conv2d. */
  tfPadding(): ConvPad {
    if (typeof this.padding === 'number') {
      const p = this.padding;
      return p === 0 ? 'valid' : [[0, 0], [p, p], [p, p], [0, 0]];
    }
    return this.padding;
  }

  protected innerCall(x: tf.Tensor, wq: tf.Tensor, bq: tf.Tensor | null): tf.Tensor {
    // an input whose gradient only feeds a zero (grad_scope.ts): the weight gradient alone
    const y = isZeroGradOnly(x)
      ? conv2dWeightGradOnly(x as tf.Tensor4D, wq as tf.Tensor4D, this.strides, this.tfPadding())
      : tf.conv2d(x as tf.Tensor4D, wq as tf.Tensor4D, this.strides, this.tfPadding());
    return bq === null ? y : tf.add(y, bq);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const out = (n: number | null, k: number, st: number): number | null => {
      if (n === null) return null;
      if (this.padding === 'same') return Math.ceil(n / st);
      const p = typeof this.padding === 'number' ? this.padding : 0;
      return Math.floor((n + 2 * p - k) / st) + 1;
    };
    return [s[0] ?? null, out(s[1] ?? null, this.kernelSize[0], this.strides[0]), out(s[2] ?? null, this.kernelSize[1], this.strides[1]), this.filters];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, strides: this.strides, padding: this.padding };
  }
}
tf.serialization.registerClass(QuantConv2D);

/** Factory: `quantConv2D({filters: 8, kernelSize: 3, weightBitWidth: 4})`, like `tf.layers.conv2d`. */
export function quantConv2D(args: QuantConv2DArgs): QuantConv2D {
  return new QuantConv2D(args);
}
