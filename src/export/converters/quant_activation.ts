/**
 * QuantIdentity / QuantReLU: the first one is the input quantizer (in the clear); every later one closes the
 * pending float chain into one TLU node whose table ends with this quantizer.
 */
import { QuantActivation } from '../../layers/quant_activation.js';
import { UnsupportedLayerError } from '../../errors.js';
import type { ConverterEntry } from './types.js';

/** Converter of QuantIdentity and QuantReLU. */
export const quantActivationConverter: ConverterEntry = {
  classNames: ['QuantIdentity', 'QuantReLU'],
  convert(layer, b) {
    if (!(layer instanceof QuantActivation)) throw new UnsupportedLayerError(`layer '${layer.name}' claims to be ${layer.getClassName()} but is not a QuantActivation`);
    const meta = layer.outputQuantMeta();
    if (b.cur === null) {
      if (layer.getClassName() === 'QuantReLU' && meta.signed) {
        throw new UnsupportedLayerError(`layer '${layer.name}': a signed QuantReLU cannot be the input quantizer; use quantIdentity({bitWidth}) first`);
      }
      b.setInput(meta);
      return;
    }
    const c = b.current(layer);
    const layers = [...c.chain.map((o) => o.layer), layer.name];
    b.closeWithTlu(layers, layer.name, (t) => layer.quantizeEvalInt(t), meta);
  },
};
