/**
 * tfjs-qat: quantization-aware training of FHE-ready neural networks on TensorFlow.js.
 * This module only re-exports; importing it registers every custom layer with tf.serialization.
 */
import './layers/register.js';

export * from './errors.js';
export * from './backend/use_backend.js';
export { setGemmThreads, gemmThreads, shutdownGemm, gemmStats, type GemmStats } from './backend/gemm/gemm.js';
export * from './quant/index.js';
export * from './layers/index.js';
export * from './training/index.js';
export * from './models/index.js';
export * from './trees/index.js';
export * from './export/index.js';
export * from './export/onnx/index.js';
