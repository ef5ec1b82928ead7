/** Pure quantizer math (Brevitas v0.12.1 semantics): integer ranges, rounding, fake quantization, scaling, presets. */
export * from './int_range.js';
export * from './rounding.js';
export * from './config.js';
export * from './presets.js';
export * from './fake_quant.js';
export * from './scaling.js';
export * from './act_scale.js';
