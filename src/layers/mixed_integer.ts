/**
 * checkMixedInteger: the rules a model must follow to become a mixed-integer FHE circuit (Concrete ML's
 * `external_libraries.md`): the first layer quantizes the input; linear, conv and pooling layers are quantized
 * and take quantized inputs; between quantizers only float univariate functions are allowed.
 */
import * as tf from '@tensorflow/tfjs';
import { QuantActivation } from './quant_activation.js';
import { QuantWeightLayer } from './quant_weight_layer.js';
import { QuantAvgPool2D } from './quant_avg_pool2d.js';
import { upstreamProvider, PASSTHROUGH_LAYERS } from './quant_meta.js';

const FLOAT_MIXING: Record<string, string> = {
  Dense: 'QuantLinear (quantLinear({units, weightBitWidth}))',
  Conv2D: 'QuantConv2D (quantConv2D({filters, kernelSize, weightBitWidth}))',
  Conv1D: 'a QuantConv2D',
  DepthwiseConv2D: 'a QuantConv2D',
  SeparableConv2D: 'a QuantConv2D',
  AveragePooling2D: 'QuantAvgPool2D, or keep it and put a QuantIdentity right after it',
  MaxPooling2D: 'QuantAvgPool2D (max pooling is not a univariate function)',
  GlobalAveragePooling2D: 'QuantAvgPool2D over the whole map',
  Add: 'QuantIdentity on both inputs',
  Concatenate: 'QuantIdentity on the inputs with equal scales',
};

/** Each violation names the layer and the fix. An empty list means the model follows the rules. */
export function checkMixedInteger(model: tf.LayersModel): string[] {
  const out: string[] = [];
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  // Shape-only layers (Flatten, Reshape) may come before the input quantizer: it runs in the clear.
  const first = layers.find((l) => !PASSTHROUGH_LAYERS.has(l.getClassName()));
  if (first === undefined) return ['the model has no layers'];
  if (!(first instanceof QuantActivation) || first.getClassName() !== 'QuantIdentity') {
    out.push(`layer '${first.name}' (${first.getClassName()}) is the first layer, but the input must be quantized first: add quantIdentity({bitWidth}) as the first layer`);
  }
  for (const layer of layers) {
    const cls = layer.getClassName();
    const fix = FLOAT_MIXING[cls];
    if (fix !== undefined) {
      out.push(`layer '${layer.name}' is a float ${cls}: an FHE circuit needs integer weights here; use ${fix}`);
      continue;
    }
    if (layer instanceof QuantWeightLayer && upstreamProvider(layer) === null) {
      out.push(`layer '${layer.name}' (${cls}) takes a float input: put a QuantIdentity (or QuantReLU) right before it so its input is integer`);
    }
    if (layer instanceof QuantAvgPool2D && upstreamProvider(layer) === null) {
      out.push(`layer '${layer.name}' (QuantAvgPool2D) takes a float input: put a QuantIdentity right before it`);
    }
    if (layer.inboundNodes.length > 1) {
      out.push(`layer '${layer.name}' is called more than once (shared layer); export needs each layer used once`);
    }
  }
  return out;
}
