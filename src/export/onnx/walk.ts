/**
 * The model as a chain of layers, with shapes. The ONNX exporter handles single-input, single-output models whose
 * layers each take the previous layer's output (Sequential models and linear functional models).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, UnsupportedLayerError } from '../../errors.js';

/** A tfjs shape with the batch dimension first (null = unknown). */
export type TfShape = (number | null)[];

/** One layer of the chain and its input/output shapes (tfjs layout, batch first). */
export interface ChainStep {
  readonly layer: tf.layers.Layer;
  readonly inShape: TfShape;
  readonly outShape: TfShape;
}

/** The layers from the input to the output (InputLayer excluded). @throws UnsupportedLayerError for branches. */
export function layerChain(model: tf.LayersModel): tf.layers.Layer[] {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new UnsupportedLayerError(`model '${model.name}' has ${model.inputs.length} inputs and ${model.outputs.length} outputs; ONNX export handles single-input, single-output models`);
  }
  const out = model.outputs[0];
  const chain: tf.layers.Layer[] = [];
  let cur: tf.layers.Layer | undefined = out?.sourceLayer as tf.layers.Layer | undefined;
  const seen = new Set<tf.layers.Layer>();
  while (cur !== undefined && cur.getClassName() !== 'InputLayer') {
    if (seen.has(cur)) throw new UnsupportedLayerError(`layer '${cur.name}' (${cur.getClassName()}) appears in a cycle`);
    seen.add(cur);
    if (cur instanceof tf.LayersModel) {
      throw new UnsupportedLayerError(`layer '${cur.name}' (${cur.getClassName()}) is a nested model; ONNX export needs its layers inline: rebuild the model with the nested layers added directly`);
    }
    if (cur.inboundNodes.length > 1) {
      throw new UnsupportedLayerError(`layer '${cur.name}' (${cur.getClassName()}) is called ${cur.inboundNodes.length} times (a shared layer); ONNX export needs each layer used once`);
    }
    const node = cur.inboundNodes[0];
    if (node === undefined) throw new UnsupportedLayerError(`layer '${cur.name}' (${cur.getClassName()}) is not connected to the model input`);
    if (node.inboundLayers.length !== 1) {
      throw new UnsupportedLayerError(`layer '${cur.name}' (${cur.getClassName()}) has ${node.inboundLayers.length} inputs; ONNX export handles chains of single-input layers (no branches or merges)`);
    }
    chain.push(cur);
    cur = node.inboundLayers[0] as tf.layers.Layer | undefined;
  }
  if (cur === undefined) throw new UnsupportedLayerError(`model '${model.name}' has no InputLayer at the start of its chain`);
  return chain.reverse();
}

/**
 * The graph input shape (batch first): the model's input shape, overridden by `inputShape` (one sample, or with
 * a leading batch dimension). @throws ConfigError when unknown dimensions remain or a given shape contradicts the model.
 */
export function resolveInputShape(model: tf.LayersModel, given: readonly (number | null)[] | null): TfShape {
  const modelShape = (model.inputs[0]?.shape ?? []) as TfShape;
  let shape: TfShape;
  if (given === null) {
    shape = [...modelShape];
  } else if (given.length === modelShape.length) {
    shape = [...given];
  } else if (given.length === modelShape.length - 1) {
    shape = [null, ...given];
  } else {
    throw new ConfigError(`exportOnnx: inputShape [${given.join(',')}] has ${given.length} dimensions, but the model input [${modelShape.map(String).join(',')}] has ${modelShape.length} (with the batch); pass one sample's shape`);
  }
  for (let i = 1; i < shape.length; i++) {
    const g = shape[i];
    const m = modelShape[i];
    if (g === null || g === undefined) {
      throw new ConfigError(`exportOnnx: input dimension ${i} is unknown (model input [${modelShape.map(String).join(',')}]); pass inputShape with every non-batch dimension`);
    }
    if (m !== null && m !== undefined && m !== g) {
      throw new ConfigError(`exportOnnx: inputShape dimension ${i} is ${g}, but the model was built for ${m}`);
    }
  }
  return shape;
}

/** The chain with each layer's input and output shapes. */
export function chainWithShapes(layers: readonly tf.layers.Layer[], inputShape: TfShape): ChainStep[] {
  const steps: ChainStep[] = [];
  let shape = inputShape;
  for (const layer of layers) {
    const o = layer.computeOutputShape(shape) as TfShape | TfShape[];
    const outShape = (Array.isArray(o[0]) ? o[0] : o) as TfShape;
    steps.push({ layer, inShape: shape, outShape: [...outShape] });
    shape = [...outShape];
  }
  return steps;
}
