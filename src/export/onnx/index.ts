/** ONNX export (QCDQ for any runtime, QONNX for Concrete ML). See docs/onnx.md. */
export { exportOnnx, exportOnnxToFile, buildOnnxModel, ONNX_OPSET, ONNX_IR_VERSION } from './exporter.js';
export type { OnnxExport } from './exporter.js';
export { resolveOnnxOptions, QONNX_DOMAINS } from './options.js';
export type { ExportOnnxOptions, ResolvedOnnxOptions, OnnxFormat, QonnxDomain, QonnxAvgPoolMode } from './options.js';
export type { BitWidthSummary, LayerBits } from './metadata.js';
export { packageVersion } from './metadata.js';
export { decodeModel } from './proto.js';
