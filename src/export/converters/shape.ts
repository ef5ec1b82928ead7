/** Flatten / Reshape: the data order is unchanged (NHWC row-major), only the shape changes. */
import type * as tf from '@tensorflow/tfjs';
import { UnsupportedLayerError } from '../../errors.js';
import type { ConverterEntry } from './types.js';

/** Converter of Flatten and Reshape. */
export const shapeConverter: ConverterEntry = {
  classNames: ['Flatten', 'Reshape'],
  convert(layer, b) {
    const c = b.current(layer);
    const out = layer.computeOutputShape([null, ...c.shape]) as tf.Shape;
    const shape = out.slice(1);
    if (!shape.every((d): d is number => typeof d === 'number' && d > 0)) {
      throw new UnsupportedLayerError(`layer '${layer.name}' (${layer.getClassName()}) has an unknown output shape [${shape.join(', ')}]`);
    }
    if (shape.length === c.shape.length && shape.every((d, i) => d === c.shape[i])) return;
    b.reshape(layer, shape);
  },
};
