// QONNX exports: structure (one Quant per quantized tensor with the model's parameters, topological order, custom
// opset), each Quant checked against the equivalent QCDQ nodes in onnxruntime, and the whole graph (Quant lowered
// to standard ops) against the tfjs model.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { exportOnnx, type ExportOnnxOptions } from '../../../src/export/onnx/index.js';
import { GraphBuilder } from '../../../src/export/onnx/graph.js';
import { qcdqEmitter } from '../../../src/export/onnx/quant_emit.js';
import { DT, encodeModel, makeValueInfo } from '../../../src/export/onnx/proto.js';
import { QuantActivation, QuantWeightLayer, QuantAvgPool2D, upstreamProvider } from '../../../src/layers/index.js';
import { makeData, makeMlp, makeCnn, train, runOrt, compare, nhwcToNchw } from './fixtures.js';
import { decodePlain, evalQuant, quantParams, lowerQonnx, initializers, tensorValues, quantBounds, type GModel, type QuantParams } from './qonnx_eval.js';

interface Trained { model: tf.Sequential; test: tf.Tensor; ref: Float32Array; nchw: boolean }

function trainedMlp(pot = false): Trained {
  const d = makeData(512, [8], 3, 'q-mlp-train');
  const test = makeData(300, [8], 3, 'q-mlp-test');
  const model = makeMlp(8, 3, pot ? { actQuant: 'pot', inBits: 12 } : { weightQuant: 'Int8WeightPerChannelFloat', biasQuant: 'Int32Bias' });
  train(model, d.x, d.y, 20);
  const ref = tf.tidy(() => model.predict(test.x) as tf.Tensor);
  const out = { model, test: test.x, ref: ref.dataSync() as Float32Array, nchw: false };
  tf.dispose([d.x, d.y, test.y, ref]);
  return out;
}

function trainedCnn(truncMode: 'round' | 'floor'): Trained {
  const d = makeData(256, [10, 10, 2], 3, 'q-cnn-train');
  const test = makeData(150, [10, 10, 2], 3, 'q-cnn-test');
  const model = makeCnn(10, 2, 3, { truncMode, biasQuant: truncMode === 'floor' ? 'Int32Bias' : 'none', reluBits: 3 });
  train(model, d.x, d.y, 12, 32);
  const ref = tf.tidy(() => model.predict(test.x) as tf.Tensor);
  const out = { model, test: test.x, ref: ref.dataSync() as Float32Array, nchw: true };
  tf.dispose([d.x, d.y, test.y, ref]);
  return out;
}

/** The Quant parameters the model implies, in graph order (name suffix identifies the tensor). */
function expectedQuants(model: tf.LayersModel, avgPool: 'quant' | 'trunc'): { what: string; p: Omit<QuantParams, 'rounding' | 'zeroPoint'> & { rounding?: string } }[] {
  const out: { what: string; p: Omit<QuantParams, 'rounding' | 'zeroPoint'> & { rounding?: string } }[] = [];
  for (const l of model.layers) {
    if (l instanceof QuantActivation) {
      const m = l.outputQuantMeta();
      out.push({ what: `${l.name} act`, p: { scale: [m.scale as number], bitWidth: m.bitWidth, signed: m.signed, narrow: m.narrowRange } });
    } else if (l instanceof QuantWeightLayer) {
      const iw = l.getIntWeights();
      out.push({ what: `${l.name} weight`, p: { scale: Array.from(iw.scale), bitWidth: l.weightBitWidth, signed: true, narrow: l.weightQuantConfig.narrowRange } });
      if (l.biasQuantMode === 'int32') {
        const s = upstreamProvider(l)?.outputQuantMeta().scale as number;
        out.push({ what: `${l.name} bias`, p: { scale: Array.from(iw.scale, (w) => Math.fround(s * w)), bitWidth: 32, signed: true, narrow: false } });
      }
    } else if (l instanceof QuantAvgPool2D && avgPool === 'quant') {
      const m = l.outputQuantMeta();
      const inBits = upstreamProvider(l)?.outputGrid().bitWidth ?? NaN;
      const { ts } = l.truncation(inBits);
      out.push({ what: `${l.name} sum`, p: { scale: [1], bitWidth: NaN, signed: m.signed, narrow: false } });
      out.push({ what: `${l.name} out`, p: { scale: [ts], bitWidth: m.bitWidth, signed: m.signed, narrow: false, rounding: l.truncMode === 'round' ? 'ROUND' : 'FLOOR' } });
    }
  }
  return out;
}

/** Nodes in topological order, every input defined, unique outputs. */
function checkTopology(m: GModel): void {
  const defined = new Set<string>([...m.graph.initializer.map((t) => t.name), ...m.graph.input.map((i) => i.name)]);
  for (const n of m.graph.node) {
    for (const i of n.input) expect(defined.has(i), `input ${i} of ${n.opType} ${n.name} is defined before use`).to.equal(true);
    for (const o of n.output) {
      expect(defined.has(o), `${o} is produced once`).to.equal(false);
      defined.add(o);
    }
  }
  for (const o of m.graph.output) expect(defined.has(o.name)).to.equal(true);
}

function checkStructure(t: Trained, opts: Partial<ExportOnnxOptions> = {}): GModel {
  const domain = opts.qonnxDomain ?? 'onnx.brevitas';
  const avg = opts.qonnxAvgPool ?? 'quant';
  const m = decodePlain(exportOnnx(t.model, { format: 'qonnx', ...opts }));
  checkTopology(m);
  expect(m.opsetImport).to.deep.include({ domain: '', version: 14 });
  expect(m.opsetImport).to.deep.include({ domain, version: 1 });
  const quants = m.graph.node.filter((n) => n.opType === 'Quant');
  for (const q of quants) expect(q.domain).to.equal(domain);
  // exactly one Quant per quantized tensor: no tensor feeds two Quants, no Quant re-quantizes a Quant output
  const quantOut = new Set(quants.map((q) => q.output[0]));
  const quantIn = quants.map((q) => q.input[0]);
  expect(new Set(quantIn).size).to.equal(quantIn.length);
  // the one Quant -> Quant edge allowed: an avg pool's integer sum (accumulator grid) -> its truncated output
  for (const i of quantIn) if (i !== undefined && !i.endsWith('_acc_quant')) expect(quantOut.has(i), `tensor ${i} is quantized twice`).to.equal(false);
  // every Gemm/Conv data and weight input comes straight from a Quant
  for (const n of m.graph.node.filter((x) => x.opType === 'Gemm' || x.opType === 'Conv')) {
    expect(quantOut.has(n.input[0]), `${n.name} input is quantized`).to.equal(true);
    expect(quantOut.has(n.input[1]), `${n.name} weight is quantized`).to.equal(true);
  }
  // parameters equal the model's, in order
  const want = expectedQuants(t.model, avg);
  expect(quants.length).to.equal(want.length);
  quants.forEach((q, i) => {
    const got = quantParams(m, q);
    const w = want[i];
    if (w === undefined) throw new Error('missing expectation');
    expect(got.zeroPoint, w.what).to.equal(0);
    expect(got.signed, w.what).to.equal(w.p.signed);
    expect(got.narrow, w.what).to.equal(w.p.narrow);
    expect(got.rounding, w.what).to.equal(w.p.rounding ?? 'ROUND');
    if (!Number.isNaN(w.p.bitWidth)) expect(got.bitWidth, w.what).to.equal(w.p.bitWidth);
    if (!Number.isNaN(w.p.scale[0])) expect(got.scale, w.what).to.deep.equal(w.p.scale.map(Math.fround));
  });
  // weights: the Quant of the float initializer gives the model's integers
  const inits = initializers(m);
  const weightLayers = t.model.layers.filter((l): l is QuantWeightLayer => l instanceof QuantWeightLayer);
  const wq = quants.filter((q) => q.input[0]?.endsWith('_weight'));
  expect(wq.length).to.equal(weightLayers.length);
  wq.forEach((q, i) => {
    const layer = weightLayers[i];
    const wt = inits.get(q.input[0] ?? '');
    if (layer === undefined || wt === undefined) throw new Error('weight missing');
    const ints = evalQuant(tensorValues(wt), quantParams(m, q), true);
    const iw = layer.getIntWeights();
    const sorted = (a: ArrayLike<number>): number[] => Array.from(a).sort((x, y) => x - y);
    expect(sorted(ints)).to.deep.equal(sorted(iw.values)); // same multiset (layouts differ)
    let sumAbs = 0;
    for (const v of ints) sumAbs += Math.abs(v);
    expect(sumAbs).to.be.greaterThan(0);
  });
  return m;
}

/** A standalone QCDQ model computing the same quantization as one Quant node. */
function qcdqEquivalent(p: QuantParams, dims: number[]): Uint8Array {
  const g = new GraphBuilder();
  const x = g.reserve('x');
  g.reserve('y');
  const [lo, hi] = quantBounds(p);
  let y: string;
  if (p.scale.length === 1 && p.bitWidth <= 8 && p.rounding === 'ROUND') {
    y = qcdqEmitter.act(g, x, { scale: p.scale[0] ?? NaN, bitWidth: p.bitWidth, signed: p.signed, narrowRange: p.narrow }, 'q');
  } else if (p.scale.length > 1 && p.bitWidth <= 8) {
    const c = p.scale.length;
    const s = g.initializer('s', DT.FLOAT, [c], p.scale);
    const zp = g.initializer('zp', DT.INT8, [c], new Array<number>(c).fill(0));
    let q = g.node('QuantizeLinear', [x, s, zp], 'q', { axis: 0 });
    q = g.node('Clip', [q, g.scalar('lo', DT.INT8, lo), g.scalar('hi', DT.INT8, hi)], 'c');
    y = g.node('DequantizeLinear', [q, s, zp], 'dq', { axis: 0 });
  } else {
    const s = p.scale.length === 1 ? g.floatScalar('s', p.scale[0] ?? NaN) : g.initializer('s', DT.FLOAT, [p.scale.length, ...dims.slice(1).map(() => 1)], p.scale);
    const r = g.node(p.rounding === 'FLOOR' ? 'Floor' : 'Round', [g.node('Div', [x, s], 'd')], 'r');
    y = g.node('Mul', [g.node('Clip', [r, g.floatScalar('lo', lo), g.floatScalar('hi', hi)], 'c'), s], 'm');
  }
  g.nodeTo('Identity', [y], 'y');
  return encodeModel({
    irVersion: 8, opsetImport: [{ domain: '', version: 14 }],
    graph: { name: 'q', node: g.nodes, initializer: g.initializers, input: [makeValueInfo('x', dims)], output: [makeValueInfo('y', dims)] },
  });
}

/** Every value of a grid around its range, ties included (x = (k + j/4)·scale). */
function sweep(p: QuantParams): Float32Array {
  const [lo, hi] = quantBounds(p);
  const span = Math.min(hi - lo, 600);
  const vals: number[] = [];
  for (let k = -span - 3; k <= span + 3; k++) for (let j = 0; j < 4; j++) vals.push(Math.fround((Math.max(lo, Math.min(hi, 0)) + k + j / 4) * (p.scale[0] ?? 1)));
  return Float32Array.from(vals);
}

async function checkEachQuant(m: GModel): Promise<number> {
  const inits = initializers(m);
  let checked = 0;
  for (const q of m.graph.node.filter((n) => n.opType === 'Quant')) {
    const p = quantParams(m, q);
    const wt = inits.get(q.input[0] ?? '');
    const x = wt !== undefined ? Float32Array.from(tensorValues(wt)) : sweep(p);
    const dims = wt !== undefined ? wt.dims.map(Number) : [x.length];
    const want = evalQuant(x, p);
    const got = (await runOrt(qcdqEquivalent(p, dims), { x: { data: x, dims } }))['y'] ?? new Float32Array();
    const bad: string[] = [];
    got.forEach((g, i) => { if (g !== want[i]) bad.push(`x=${x[i]} ort=${g} js=${want[i]}`); });
    expect(bad.slice(0, 5), `Quant ${q.name} (${q.input[0]}) ${JSON.stringify(p)}`).to.deep.equal([]);
    checked++;
  }
  return checked;
}

async function checkLoweredEqualsTfjs(t: Trained, bytes: Uint8Array, domain: string): Promise<void> {
  const x = t.test.dataSync() as Float32Array;
  const shape = t.test.shape;
  const input = t.nchw ? { data: nhwcToNchw(x, shape), dims: [shape[0] ?? 0, shape[3] ?? 0, shape[1] ?? 0, shape[2] ?? 0] } : { data: x, dims: shape };
  const got = (await runOrt(lowerQonnx(bytes, domain), { input }))['output'] ?? new Float32Array();
  const { maxRel, argmaxDiff } = compare(got, t.ref, 3);
  expect(maxRel).to.be.below(1e-5);
  expect(argmaxDiff).to.equal(0);
}

describe('export/onnx QONNX', () => {
  const all: Trained[] = [];
  let mlp: Trained;
  let cnn: Trained;
  let cnnFloor: Trained;
  let mlpPot: Trained;
  before(() => {
    mlp = trainedMlp();
    mlpPot = trainedMlp(true);
    all.push(mlpPot);
    cnn = trainedCnn('round');
    cnnFloor = trainedCnn('floor');
    all.push(mlp, cnn, cnnFloor);
  });
  after(() => {
    for (const t of all) {
      t.test.dispose();
      t.model.dispose();
    }
  });

  it('MLP (per-channel, Int32Bias; PoT with a 12-bit input): structure, parameters, weight integers', () => {
    checkStructure(mlpPot);
    const m = checkStructure(mlp);
    expect(m.graph.node.filter((n) => n.opType === 'Quant')).to.have.length(2 + 2 + 2);
    expect(m.metadataProps.find((p) => p.key === 'format')?.value).to.equal('qonnx');
  });

  it('CNN: structure and parameters in both domains and both avg-pool forms', () => {
    checkStructure(cnn);
    checkStructure(cnn, { qonnxDomain: 'qonnx.custom_op.general' });
    const m = checkStructure(cnnFloor, { qonnxAvgPool: 'trunc' });
    const trunc = m.graph.node.filter((n) => n.opType === 'Trunc');
    expect(trunc).to.have.length(1);
  });

  it('each Quant equals its QCDQ equivalent run in onnxruntime', async () => {
    let n = 0;
    for (const t of [mlp, mlpPot, cnn, cnnFloor]) n += await checkEachQuant(decodePlain(exportOnnx(t.model, { format: 'qonnx' })));
    expect(n).to.be.greaterThan(15);
  });

  it('the whole QONNX graph, Quant/Trunc lowered to standard ops, equals the tfjs model', async () => {
    await checkLoweredEqualsTfjs(mlp, exportOnnx(mlp.model, { format: 'qonnx' }), 'onnx.brevitas');
    await checkLoweredEqualsTfjs(mlpPot, exportOnnx(mlpPot.model, { format: 'qonnx' }), 'onnx.brevitas');
    await checkLoweredEqualsTfjs(cnn, exportOnnx(cnn.model, { format: 'qonnx' }), 'onnx.brevitas');
    await checkLoweredEqualsTfjs(cnnFloor, exportOnnx(cnnFloor.model, { format: 'qonnx' }), 'onnx.brevitas');
    await checkLoweredEqualsTfjs(cnnFloor, exportOnnx(cnnFloor.model, { format: 'qonnx', qonnxAvgPool: 'trunc', qonnxDomain: 'qonnx.custom_op.general' }), 'qonnx.custom_op.general');
  });
});
