/** QuantLinear: a dense layer with fake-quantized weights (Brevitas `QuantLinear`). */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import { isZeroGradOnly, matMulWeightGradOnly } from './grad_scope.js';
import { QuantWeightLayer, type QuantWeightArgs } from './quant_weight_layer.js';

/** Options of QuantLinear. */
export interface QuantLinearArgs extends QuantWeightArgs {
  /** Output features (required, positive integer). */
  units: number;
}

/**
 * y = x @ Wq + b, with Wq = fake-quantized kernel ([inFeatures, units], tfjs layout) and a float or
 * Int32-quantized bias. Input rank 2 ([batch, features]).
 */
export class QuantLinear extends QuantWeightLayer {
  static className = 'QuantLinear';
  readonly units: number;

  constructor(args: QuantLinearArgs) {
    super(args);
    if (!Number.isInteger(args.units) || args.units < 1) {
      throw new ConfigError(`QuantLinear: units must be a positive integer, got ${String(args.units)}`);
    }
    this.units = args.units;
  }

  protected kernelShape(inputShape: tf.Shape): number[] {
    const inDim = inputShape[inputShape.length - 1];
    if (inputShape.length !== 2 || inDim === null || inDim === undefined) {
      throw new ConfigError(`${this.name}: expects input shape [batch, features] with known features, got [${inputShape.join(',')}]; add tf.layers.flatten() before it`);
    }
    return [inDim, this.units];
  }

  protected outputChannels(): number {
    return this.units;
  }

  protected innerCall(x: tf.Tensor, wq: tf.Tensor, bq: tf.Tensor | null): tf.Tensor {
    // an input whose gradient only feeds a zero (grad_scope.ts): the weight gradient alone
    const y = isZeroGradOnly(x) ? matMulWeightGradOnly(x as tf.Tensor2D, wq as tf.Tensor2D) : tf.matMul(x as tf.Tensor2D, wq as tf.Tensor2D);
    return bq === null ? y : tf.add(y, bq);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [...s.slice(0, -1), this.units];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units };
  }
}
tf.serialization.registerClass(QuantLinear);

/** Factory: `quantLinear({units: 10, weightBitWidth: 4})`, like `tf.layers.dense`. */
export function quantLinear(args: QuantLinearArgs): QuantLinear {
  return new QuantLinear(args);
}
