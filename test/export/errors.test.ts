// Export errors (overflow, unsupported layers, mixed-integer violations), rounding, compact size.
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { AccumulatorOverflowError, ConfigError, MixedIntegerError, UnsupportedLayerError } from '../../src/errors.js';
import { exportCircuit } from '../../src/export/to_circuit.js';
import { simulateCircuit } from '../../src/export/simulate.js';
import { getConverter, supportedLayerClasses } from '../../src/export/registry.js';
import { LAYER_CLASSES, quantIdentity, quantLinear } from '../../src/layers/index.js';
import { blobs, buildMlp, trainBriefly } from './helpers.js';

describe('export/errors, rounding and size', function () {
  this.timeout(120000);

  it('every tfjs-qat layer class has a converter', () => {
    for (const cls of Object.keys(LAYER_CLASSES)) expect(supportedLayerClasses()).to.include(cls);
  });

  it('AccumulatorOverflowError names the node when a TLU input exceeds maxBitWidth', () => {
    const d = blobs(100, 20, 3);
    const m = buildMlp({ inputDim: 20, hidden: [8], nOutputs: 3, wBits: 8, aBits: 8 });
    const x = tf.tensor2d(d.x);
    const y = tf.oneHot(tf.tensor1d(d.y, 'int32'), 3).toFloat();
    trainBriefly(m, x, y, 8);
    expect(() => exportCircuit(m, d.x, { maxBitWidth: 8 })).to.throw(AccumulatorOverflowError, /node 'quant_identity_\w+' .*this 1[0-9]-bit value is used as an input to a table lookup.*limit of 8 bits; use roundingThresholdBits/);
    // rounding to 6 bits makes it fit; the report shows the effect on agreement
    const { report } = exportCircuit(m, d.x, { maxBitWidth: 8, roundingThresholdBits: 6 });
    expect(report.maxTluInputBits).to.be.at.most(7);
    const tlu = report.nodes.find((n) => n.op === 'tlu');
    expect(tlu?.tluInput?.shift).to.be.greaterThan(0);
    expect(tlu?.tluInput?.rounding).to.equal('halfUp');
    expect(report.rounding?.thresholdBits).to.equal(6);
    expect(report.rounding?.agreementWithModel).to.be.within(0.5, 1);
    expect(report.rounding?.agreementWithoutRounding).to.equal(1);
    tf.dispose([x, y]);
    m.dispose();
  });

  it('rejects bad options', () => {
    const m = buildMlp({ inputDim: 3, hidden: [], nOutputs: 2 });
    expect(() => exportCircuit(m, [[0, 0, 0]], { roundingThresholdBits: 9 })).to.throw(ConfigError, /roundingThresholdBits must be an integer in 2\.\.8/);
    expect(() => exportCircuit(m, [[0, 0]])).to.throw(/calibration row 0 has 2 values; the model takes 3/);
    m.dispose();
  });

  it('MixedIntegerError lists the violations; UnsupportedLayerError names the layer and the fix', () => {
    const f = tf.sequential();
    f.add(tf.layers.dense({ units: 3, inputShape: [4] }));
    expect(() => exportCircuit(f, [[0, 0, 0, 0]])).to.throw(MixedIntegerError, /float Dense.*QuantLinear/s);
    const p = tf.sequential();
    p.add(quantIdentity({ inputShape: [2, 3], bitWidth: 4 }));
    p.add(tf.layers.permute({ dims: [2, 1] }));
    p.add(tf.layers.flatten());
    p.add(quantLinear({ units: 2 }));
    expect(() => exportCircuit(p, [[0, 0, 0, 0, 0, 0]])).to.throw(UnsupportedLayerError, /layer 'permute_\w+' \(Permute\) cannot be exported.*supported layers: QuantIdentity/);
    const mp = tf.layers.maxPooling2d({ poolSize: 2 });
    expect(() => getConverter(mp)).to.throw(UnsupportedLayerError, /MaxPooling2D.*use QuantAvgPool2D/);
    const s = tf.sequential();
    s.add(quantIdentity({ inputShape: [4], bitWidth: 4 }));
    s.add(quantLinear({ units: 4 }));
    s.add(tf.layers.activation({ activation: 'softmax' }));
    s.add(quantIdentity({ bitWidth: 4 }));
    s.add(quantLinear({ units: 2 }));
    expect(() => exportCircuit(s, [[0, 1, 2, 3]])).to.throw(UnsupportedLayerError, /'activation_\w+' \(softmax\) mixes the values of a sample/);
    tf.dispose([f, p, s].flatMap((m) => m.weights.map((w) => w.read())));
  });

  it('a 784-512-10 circuit is well under 10 MB and simulates', () => {
    const m = buildMlp({ inputDim: 784, hidden: [512], nOutputs: 10, wBits: 4, aBits: 4 });
    const x = tf.randomUniform([64, 784], -1, 2, 'float32', 3);
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 10), 'int32'), 10).toFloat();
    trainBriefly(m, x, y, 1);
    const { circuit, report } = exportCircuit(m, x);
    const bytes = Buffer.byteLength(JSON.stringify(circuit));
    expect(bytes).to.be.below(10e6);
    expect(report.jsonBytes).to.be.below(10e6);
    expect(report.agreement?.predictionAgreement).to.equal(1);
    expect(simulateCircuit(circuit, x).n).to.equal(64);
    tf.dispose([x, y]);
    m.dispose();
  });
});
