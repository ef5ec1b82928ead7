/** The converter contract: one small function per layer class, driving the CircuitBuilder. */
import type * as tf from '@tensorflow/tfjs';
import type { CircuitBuilder } from '../builder.js';

/** Converts one layer: reads its fitted state and adds nodes or float ops to the builder. */
export type Converter = (layer: tf.layers.Layer, builder: CircuitBuilder) => void;

/** A converter and the layer class names it handles. */
export interface ConverterEntry {
  /** tfjs class names (`layer.getClassName()`). */
  readonly classNames: readonly string[];
  readonly convert: Converter;
}
