/** tfjs-qat layers: Brevitas-style quantized layers for TensorFlow.js. */
export { QuantIdentity, QuantReLU, QuantActivation, quantIdentity, quantReLU } from './quant_activation.js';
export type { QuantActivationArgs, QuantActState } from './quant_activation.js';
export { QuantLinear, quantLinear } from './quant_linear.js';
export type { QuantLinearArgs } from './quant_linear.js';
export { QuantConv2D, quantConv2D } from './quant_conv2d.js';
export type { QuantConv2DArgs, ConvPadding } from './quant_conv2d.js';
export { QuantWeightLayer } from './quant_weight_layer.js';
export type { QuantWeightArgs, IntWeights, InitializerLike } from './quant_weight_layer.js';
export { QuantAvgPool2D, quantAvgPool2D } from './quant_avg_pool2d.js';
export type { QuantAvgPool2DArgs, TruncMode } from './quant_avg_pool2d.js';
export { Univariate, univariate, registerUnivariate, getUnivariate, univariateNames } from './univariate.js';
export type { UnivariateArgs, UnivariateFn } from './univariate.js';
export { upstreamProvider, isQuantOutputProvider, PASSTHROUGH_LAYERS } from './quant_meta.js';
export type { QuantMeta, QuantOutputProvider } from './quant_meta.js';
export { checkMixedInteger } from './mixed_integer.js';
export { saveModel, loadModel, readModelArtifacts, writeFileAtomic } from './model_io.js';
export { LAYER_CLASSES } from './register.js';
export type { WeightPresetName, ActPresetName, BiasPresetName } from '../quant/presets.js';
