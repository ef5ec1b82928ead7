// Model-level fields: IR/opset, names and shapes, doc_string and metadata_props with the bit widths; plus the
// float layers between quantizers (batch norm, reshape, GELU, softmax) run in onnxruntime.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { exportOnnx } from '../../../src/export/onnx/index.js';
import { QuantWeightLayer, QuantAvgPool2D, upstreamProvider, quantIdentity, quantConv2D, quantLinear, univariate } from '../../../src/layers/index.js';
import { makeData, makeMlp, makeCnn, train, runOrt, compare, nhwcToNchw } from './fixtures.js';
import { decodePlain, type GValueInfo } from './qonnx_eval.js';

const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const shapeOf = (v: GValueInfo | undefined): (number | string)[] => (v?.type.tensorType.shape.dim ?? []).map((d) => (typeof d.dimParam === 'string' && d.dimParam !== '' ? d.dimParam : (d.dimValue ?? -1)));

describe('export/onnx model info', () => {
  it('IR 8, opset 14, names, shapes, doc_string and metadata with the worst-case accumulator width', () => {
    const d = makeData(256, [8], 3, 'info');
    const model = makeMlp(8, 3);
    train(model, d.x, d.y, 5);
    const m = decodePlain(exportOnnx(model, { format: 'qcdq' }));
    expect(m.irVersion).to.equal(8);
    expect(m.opsetImport).to.deep.equal([{ domain: '', version: 14 }]);
    expect(m.producerName).to.equal('tfjs-qat');
    expect(m.producerVersion).to.equal(version);
    expect(m.graph.input.map((i) => i.name)).to.deep.equal(['input']);
    expect(m.graph.output.map((i) => i.name)).to.deep.equal(['output']);
    expect(shapeOf(m.graph.input[0])).to.deep.equal(['batch', 8]);
    expect(shapeOf(m.graph.output[0])).to.deep.equal(['batch', 3]);
    // worst-case accumulators computed from the layers themselves
    let maxAcc = 0;
    for (const l of model.layers) {
      if (l instanceof QuantWeightLayer) maxAcc = Math.max(maxAcc, l.worstCaseAccumulatorBitWidth(upstreamProvider(l)?.outputGrid().bitWidth ?? NaN));
    }
    expect(maxAcc).to.equal(16); // fc2: 4-bit input, 8-bit weights, 16 inputs: ceil(log2(15·255·16))
    const meta = new Map(m.metadataProps.map((p) => [p.key, p.value]));
    expect(meta.get('max_bit_width')).to.equal(String(maxAcc));
    expect(meta.get('max_accumulator_bit_width')).to.equal(String(maxAcc));
    expect(meta.get('max_activation_bit_width')).to.equal('8');
    expect(meta.get('max_weight_bit_width')).to.equal('8');
    expect(meta.get('tfjs_qat_version')).to.equal(version);
    expect(meta.get('format')).to.equal('qcdq');
    const perLayer = JSON.parse(meta.get('bit_widths') ?? '[]') as { layer: string; accumulatorBitWidth?: number }[];
    expect(perLayer.find((l) => l.layer === 'fc1')?.accumulatorBitWidth).to.equal(15); // ceil(log2(255·15·8))
    expect(m.docString).to.include(`tfjs-qat ${version}`).and.include('QCDQ').and.include('accumulator 16 bits').and.include('fc1 (QuantLinear): w4 acc15');
    tf.dispose([d.x, d.y]);
    model.dispose();
  });

  it('CNN: NCHW input by default, NHWC on request, fixed batch, custom names; pool accumulator counted', () => {
    const model = makeCnn(10, 2, 3);
    const nchw = decodePlain(exportOnnx(model, { format: 'qonnx' }));
    expect(shapeOf(nchw.graph.input[0])).to.deep.equal(['batch', 2, 10, 10]);
    const nhwc = decodePlain(exportOnnx(model, { format: 'qcdq', inputLayout: 'nhwc', batchSize: 4, inputName: 'pixels', outputName: 'logits' }));
    expect(shapeOf(nhwc.graph.input[0])).to.deep.equal([4, 10, 10, 2]);
    expect(nhwc.graph.input[0]?.name).to.equal('pixels');
    expect(nhwc.graph.output[0]?.name).to.equal('logits');
    expect(shapeOf(nhwc.graph.output[0])).to.deep.equal([4, 3]);
    expect(nhwc.graph.node[0]?.opType).to.equal('QuantizeLinear');
    expect(nhwc.graph.node.filter((n) => n.opType === 'Transpose')).to.have.length(2); // to NCHW before conv1, back before flatten
    const pool = model.layers.find((l): l is QuantAvgPool2D => l instanceof QuantAvgPool2D);
    const perLayer = JSON.parse(nchw.metadataProps.find((p) => p.key === 'bit_widths')?.value ?? '[]') as { layer: string; accumulatorBitWidth?: number }[];
    expect(perLayer.find((l) => l.layer === 'pool')?.accumulatorBitWidth).to.equal(pool?.truncation(8).accBitWidth).and.to.equal(10);
    model.dispose();
  });

  it('batch norm, GELU, reshape, tanh and softmax between quantizers run in onnxruntime and equal tfjs', async () => {
    const m = tf.sequential();
    m.add(quantIdentity({ inputShape: [6, 6, 1], name: 'q0' }));
    m.add(quantConv2D({ filters: 3, kernelSize: 3, padding: 'same', weightBitWidth: 5, name: 'c' }));
    m.add(tf.layers.batchNormalization({ name: 'bn' }));
    m.add(univariate({ fn: 'gelu', name: 'g' }));
    m.add(quantIdentity({ bitWidth: 5, name: 'q1' }));
    m.add(tf.layers.reshape({ targetShape: [108], name: 'rs' }));
    m.add(tf.layers.activation({ activation: 'tanh', name: 'th' }));
    m.add(quantIdentity({ bitWidth: 7, name: 'q2' }));
    m.add(quantLinear({ units: 3, name: 'fc' }));
    m.add(tf.layers.activation({ activation: 'softmax', name: 'sm' }));
    const d = makeData(128, [6, 6, 1], 3, 'misc');
    train(m, d.x, d.y, 8, 32);
    const ref = tf.tidy(() => m.predict(d.x) as tf.Tensor);
    const want = ref.dataSync() as Float32Array;
    const x = d.x.dataSync() as Float32Array;
    const got = (await runOrt(exportOnnx(m, { format: 'qcdq' }), { input: { data: nhwcToNchw(x, [128, 6, 6, 1]), dims: [128, 1, 6, 6] } }))['output'] ?? new Float32Array();
    const c = compare(got, want, 3);
    expect(c.maxRel).to.be.below(1e-5);
    expect(c.argmaxDiff).to.equal(0);
    tf.dispose([d.x, d.y, ref]);
    m.dispose();
  });
});
