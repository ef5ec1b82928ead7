// Unsupported models name the layer and the reason; bad options are ConfigErrors; failed file exports leave nothing.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportOnnx, exportOnnxToFile, decodeModel } from '../../../src/export/onnx/index.js';
import { ConfigError, ModelFileError, UnsupportedLayerError } from '../../../src/errors.js';
import { quantIdentity, quantLinear, univariate, registerUnivariate } from '../../../src/layers/index.js';
import { makeMlp } from './fixtures.js';

function withDense(): tf.Sequential {
  const m = tf.sequential();
  m.add(quantIdentity({ inputShape: [4], name: 'q_in' }));
  m.add(tf.layers.dense({ units: 3, name: 'float_dense' }));
  return m;
}

describe('export/onnx errors', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tfjs-qat-onnx-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a float Dense layer is an UnsupportedLayerError naming the layer and the fix', () => {
    const m = withDense();
    for (const format of ['qcdq', 'qonnx'] as const) {
      expect(() => exportOnnx(m, { format })).to.throw(UnsupportedLayerError, /layer 'float_dense' \(Dense\).*float.*QuantLinear/);
    }
    m.dispose();
  });

  it('max pooling, custom univariate functions and branches are refused with reasons', () => {
    const mp = tf.sequential();
    mp.add(quantIdentity({ inputShape: [4, 4, 1] }));
    mp.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'mp' }));
    expect(() => exportOnnx(mp, { format: 'qcdq' })).to.throw(UnsupportedLayerError, /layer 'mp' \(MaxPooling2D\).*QuantAvgPool2D/);
    registerUnivariate('onnxTestSquare', (x) => tf.square(x));
    const uv = tf.sequential();
    uv.add(quantIdentity({ inputShape: [4] }));
    uv.add(univariate({ fn: 'onnxTestSquare', name: 'sq' }));
    expect(() => exportOnnx(uv, { format: 'qonnx' })).to.throw(UnsupportedLayerError, /layer 'sq' \(Univariate\).*'onnxTestSquare'.*no ONNX form/);
    const inp = tf.input({ shape: [4] });
    const a = quantIdentity({ name: 'qa' }).apply(inp) as tf.SymbolicTensor;
    const b = quantIdentity({ name: 'qb' }).apply(inp) as tf.SymbolicTensor;
    const add = tf.layers.add({ name: 'merge' }).apply([a, b]) as tf.SymbolicTensor;
    const br = tf.model({ inputs: inp, outputs: add });
    expect(() => exportOnnx(br, { format: 'qcdq' })).to.throw(UnsupportedLayerError, /layer 'merge' \(Add\) has 2 inputs/);
    for (const m of [mp, uv, br]) m.dispose();
  });

  it('Int32Bias after a float input is refused', () => {
    const m = tf.sequential();
    m.add(quantLinear({ inputShape: [4], units: 2, biasQuant: 'Int32Bias', name: 'fc_b' }));
    expect(() => exportOnnx(m, { format: 'qcdq' })).to.throw(UnsupportedLayerError, /layer 'fc_b'.*Int32Bias.*QuantIdentity/);
    m.dispose();
  });

  it('bad options are ConfigErrors naming the option', () => {
    const m = makeMlp(8, 3);
    expect(() => exportOnnx(m, { format: 'onnx' as 'qcdq' })).to.throw(ConfigError, /format must be one of 'qcdq', 'qonnx', got "onnx"/);
    expect(() => exportOnnx(m, {} as { format: 'qcdq' })).to.throw(ConfigError, /'format' is required/);
    expect(() => exportOnnx(m, { format: 'qcdq', opset: 13 } as { format: 'qcdq' })).to.throw(ConfigError, /unknown option 'opset'/);
    expect(() => exportOnnx(m, { format: 'qonnx', qonnxDomain: 'brevitas' as 'onnx.brevitas' })).to.throw(ConfigError, /qonnxDomain must be one of 'onnx.brevitas', 'qonnx.custom_op.general'/);
    expect(() => exportOnnx(m, { format: 'qcdq', inputShape: [9] })).to.throw(ConfigError, /dimension 1 is 9, but the model was built for 8/);
    expect(() => exportOnnx(m, { format: 'qcdq', inputShape: [2, 4, 8] })).to.throw(ConfigError, /has 3 dimensions/);
    expect(() => exportOnnx(m, { format: 'qcdq', inputName: 'x', outputName: 'x' })).to.throw(ConfigError, /must differ/);
    m.dispose();
  });

  it('exportOnnxToFile writes a decodable model atomically; a failed export leaves nothing and keeps an old file', () => {
    const m = makeMlp(8, 3);
    const path = join(dir, 'mlp.onnx');
    exportOnnxToFile(m, path, { format: 'qcdq' });
    const bytes = readFileSync(path);
    expect(decodeModel(new Uint8Array(bytes)).graph?.node?.length).to.be.greaterThan(5);
    const bad = withDense();
    const fresh = join(dir, 'bad.onnx');
    expect(() => exportOnnxToFile(bad, fresh, { format: 'qonnx' })).to.throw(UnsupportedLayerError);
    expect(existsSync(fresh)).to.equal(false);
    writeFileSync(join(dir, 'keep.onnx'), 'old');
    expect(() => exportOnnxToFile(bad, join(dir, 'keep.onnx'), { format: 'qcdq' })).to.throw(UnsupportedLayerError);
    expect(readFileSync(join(dir, 'keep.onnx'), 'utf8')).to.equal('old');
    expect(() => exportOnnxToFile(m, join(dir, 'missing', 'x.onnx'), { format: 'qcdq' })).to.throw(ModelFileError, /cannot write the ONNX model to .*missing.*folder exists/);
    expect(readdirSync(dir).sort()).to.deep.equal(['keep.onnx', 'mlp.onnx']);
    m.dispose();
    bad.dispose();
  });
});
