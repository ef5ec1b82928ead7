/**
 * exportOnnx: a tfjs-qat model -> ONNX ModelProto bytes (opset 14, IR 8), as Brevitas' `export_onnx_qcdq`
 * ('qcdq') or `export_qonnx` ('qonnx').
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ModelFileError } from '../../errors.js';
import { writeFileAtomic } from '../../layers/model_io.js';
import { GraphBuilder } from './graph.js';
import { encodeModel, makeValueInfo, type ModelProto } from './proto.js';
import { resolveOnnxOptions, type ExportOnnxOptions } from './options.js';
import { qcdqEmitter, qonnxEmitter } from './quant_emit.js';
import { chainWithShapes, layerChain, resolveInputShape } from './walk.js';
import { emitLayer, onnxShape, type EmitCtx, type Val } from './layer_emit.js';
import { docString, metadataProps, packageVersion, summarizeBits, type BitWidthSummary } from './metadata.js';

/** ONNX opset of the default domain (Concrete ML's). */
export const ONNX_OPSET = 14;
/** ONNX IR version written (accepted by onnxruntime 1.30 and onnx 1.12's checker). */
export const ONNX_IR_VERSION = 8;

/** The model proto and what was measured while building it. */
export interface OnnxExport {
  readonly model: ModelProto;
  readonly bits: BitWidthSummary;
}

/** Build the ModelProto (without encoding). @throws UnsupportedLayerError, ConfigError */
export function buildOnnxModel(model: tf.LayersModel, options: ExportOnnxOptions): OnnxExport {
  const o = resolveOnnxOptions(options);
  if (!(model instanceof tf.LayersModel)) throw new ConfigError(`exportOnnx: model must be a tf.LayersModel, got ${typeof model}`);
  if (o.inputName === o.outputName) throw new ConfigError(`exportOnnx: inputName and outputName must differ, both are '${o.inputName}'`);
  const layers = layerChain(model);
  const inShape = resolveInputShape(model, o.inputShape);
  const steps = chainWithShapes(layers, inShape);
  const batch: number | string = o.batchSize ?? (typeof inShape[0] === 'number' ? inShape[0] : 'batch');
  const g = new GraphBuilder();
  const inputName = g.reserve(o.inputName);
  const outputName = g.reserve(o.outputName);
  const em = o.format === 'qcdq' ? qcdqEmitter : qonnxEmitter(o.qonnxDomain, o.qonnxAvgPool);
  const ctx: EmitCtx = { g, em, bits: [] };
  const first: Val = { name: inputName, shape: inShape, layout: inShape.length === 4 && o.inputLayout === 'nchw' ? 'nchw' : 'tf' };
  let v = first;
  for (const step of steps) v = emitLayer(ctx, step, v);
  g.nodeTo('Identity', [v.name], outputName);
  const bits = summarizeBits(ctx.bits);
  const opsetImport = [{ domain: '', version: ONNX_OPSET }, ...[...g.customDomains].map((d) => ({ domain: d, version: 1 }))];
  const proto: ModelProto = {
    irVersion: ONNX_IR_VERSION,
    opsetImport,
    producerName: 'tfjs-qat',
    producerVersion: packageVersion(),
    domain: 'tfjs-qat',
    modelVersion: 1,
    docString: docString(o.format, model.name, bits),
    graph: {
      name: o.graphName ?? model.name.replace(/[^A-Za-z0-9_]/g, '_'),
      node: g.nodes,
      initializer: g.initializers,
      input: [makeValueInfo(inputName, onnxShape(first, batch))],
      output: [makeValueInfo(outputName, onnxShape(v, batch))],
    },
    metadataProps: metadataProps(o.format, bits),
  };
  return { model: proto, bits };
}

/**
 * Export a model to ONNX ModelProto bytes.
 * @example const bytes = exportOnnx(model, {format: 'qcdq'}); // run it with onnxruntime
 * @example exportOnnx(model, {format: 'qonnx', inputShape: [28, 28, 1]}) // for Concrete ML
 * @throws UnsupportedLayerError naming a layer that cannot be exported and why; ConfigError for bad options
 */
export function exportOnnx(model: tf.LayersModel, options: ExportOnnxOptions): Uint8Array {
  return encodeModel(buildOnnxModel(model, options).model);
}

/**
 * Export to a file, atomically: the model is built in memory first, then written to a temp file that is renamed
 * over `path`; on any error nothing is left at `path` (or its previous content is kept).
 * @throws UnsupportedLayerError, ConfigError, ModelFileError (the file cannot be written)
 */
export function exportOnnxToFile(model: tf.LayersModel, path: string, options: ExportOnnxOptions): void {
  if (typeof path !== 'string' || path.length === 0) throw new ConfigError(`exportOnnxToFile: path must be a non-empty string, got ${JSON.stringify(path)}`);
  const bytes = exportOnnx(model, options);
  try {
    writeFileAtomic(path, bytes);
  } catch (e) {
    throw new ModelFileError(`cannot write the ONNX model to ${path}: ${(e as Error).message}; check that the folder exists and is writable`);
  }
}
