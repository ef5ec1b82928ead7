// simulateCircuit kernels: 'auto' (exact float32 tfjs matMul/conv2d below 2^24), 'js' and 'reference' give identical
// integers on random circuits (conv, padding, strides, sum pools, adds, per-channel TLUs with shifts) and exported models;
// nodes whose worst case reaches 2^24 stay on the integer loops.
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { ConfigError } from '../../src/errors.js';
import { CIRCUIT_FORMAT_VERSION, parseCircuit, type CircuitJson, type NodeJson, type ParsedCircuit } from '../../src/export/circuit_schema.js';
import { encodeIntTensor } from '../../src/export/int_tensor.js';
import { gemmInt, gemmPacked, packGemm, quantizeInput, tluFast, tluInt } from '../../src/export/sim_kernels.js';
import { float32ExactNodes, magnitudeBounds, simulateCircuit, type SimulateOptions } from '../../src/export/simulate.js';
import { exportCircuit } from '../../src/export/to_circuit.js';
import { blobs, buildCnn, buildMlp, trainBriefly } from './helpers.js';

const R = { min: 0, max: 0, bits: 1 };
type Rng = () => number;
const randInt = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
const ints = (rng: Rng, n: number, lo: number, hi: number): number[] => Array.from({ length: n }, () => randInt(rng, lo, hi));

/** A TLU after `input` (values within ±bound): a shift that keeps about 2^8 table entries, per-channel or shared tables. */
function tlu(rng: Rng, name: string, input: string, shape: number[], bound: number, channels: number): NodeJson {
  const shift = Math.max(0, Math.ceil(Math.log2(bound + 1)) - 7) + randInt(rng, 0, 1);
  const span = Math.max(1, Math.ceil(bound / 2 ** shift * 0.15)); // some lookups clamp
  const nTables = rng() < 0.5 ? 1 : channels;
  const len = 2 * span + 1;
  return {
    op: 'tlu', name, input, shape, range: R, worstCase: R, shift, rounding: rng() < 0.5 ? 'halfEven' : 'halfUp', inMin: -span, inMax: span,
    tables: encodeIntTensor(ints(rng, nTables * len, -7, 7), [nTables, len]),
  };
}

/** input [h, w, cin] -> conv2d -> 2 TLUs -> add -> sumPool -> conv2d -> TLU -> reshape -> gemm -> TLU -> gemm. */
function randomCnnCircuit(seed: number, wMax = 7): CircuitJson {
  const rng = seedrandom(`cnn${seed}`);
  const [h, w, cin] = [randInt(rng, 5, 9), randInt(rng, 5, 9), randInt(rng, 1, 3)];
  const signed = rng() < 0.5;
  const bits = randInt(rng, 2, 8);
  const input = { scale: 0.05 + rng() * 0.3, zeroPoint: signed ? 0 : randInt(rng, 0, 3), bitWidth: bits, signed, narrowRange: rng() < 0.3 };
  const xMax = 2 ** bits;
  const nodes: NodeJson[] = [];
  const [kh, kw, c1] = [randInt(rng, 1, 3), randInt(rng, 1, 3), randInt(rng, 2, 5)];
  const strides: [number, number] = [randInt(rng, 1, 2), randInt(rng, 1, 2)];
  const padding: [number, number, number, number] = [randInt(rng, 0, 2), randInt(rng, 0, 1), randInt(rng, 0, 1), randInt(rng, 0, 2)];
  const oh = Math.floor((h + padding[0] + padding[1] - kh) / strides[0]) + 1;
  const ow = Math.floor((w + padding[2] + padding[3] - kw) / strides[1]) + 1;
  const s1 = [oh, ow, c1];
  nodes.push({ op: 'conv2d', name: 'conv1', input: 'input', shape: s1, range: R, worstCase: R, weights: encodeIntTensor(ints(rng, kh * kw * cin * c1, -wMax, wMax), [kh, kw, cin, c1]), bias: rng() < 0.5 ? null : encodeIntTensor(ints(rng, c1, -50, 50), [c1]), strides, padding });
  const b1 = kh * kw * cin * wMax * xMax + 50;
  nodes.push(tlu(rng, 'act1a', 'conv1', s1, b1, c1), tlu(rng, 'act1b', 'conv1', s1, b1, c1));
  nodes.push({ op: 'add', name: 'sum', inputs: ['act1a', 'act1b'], shape: s1, range: R, worstCase: R });
  const ps = Math.min(2, oh, ow);
  const s2 = [Math.floor((oh - ps) / 1) + 1, Math.floor((ow - ps) / 1) + 1, c1];
  nodes.push({ op: 'sumPool', name: 'pool', input: 'sum', shape: s2, range: R, worstCase: R, poolSize: [ps, ps], strides: [1, 1] });
  const c2 = randInt(rng, 2, 4);
  const s3 = [s2[0]!, s2[1]!, c2];
  nodes.push({ op: 'conv2d', name: 'conv2', input: 'pool', shape: s3, range: R, worstCase: R, weights: encodeIntTensor(ints(rng, 9 * c1 * c2, -wMax, wMax), [3, 3, c1, c2]), bias: null, strides: [1, 1], padding: [1, 1, 1, 1] });
  nodes.push(tlu(rng, 'act2', 'conv2', s3, 9 * c1 * wMax * 14 * ps * ps, c2));
  const flat = s3[0]! * s3[1]! * c2;
  nodes.push({ op: 'reshape', name: 'flat', input: 'act2', shape: [flat], range: R, worstCase: R });
  const hidden = randInt(rng, 3, 12);
  nodes.push({ op: 'gemm', name: 'fc1', input: 'flat', shape: [hidden], range: R, worstCase: R, weights: encodeIntTensor(ints(rng, flat * hidden, -wMax, wMax), [flat, hidden]), bias: encodeIntTensor(ints(rng, hidden, -9, 9), [hidden]) });
  nodes.push(tlu(rng, 'act3', 'fc1', [hidden], flat * wMax * 7 + 9, hidden));
  nodes.push({ op: 'gemm', name: 'fc2', input: 'act3', shape: [3], range: R, worstCase: R, weights: encodeIntTensor(ints(rng, hidden * 3, -wMax, wMax), [hidden, 3]), bias: null });
  return { formatVersion: CIRCUIT_FORMAT_VERSION, producer: 'test', inputShape: [h, w, cin], input, nodes, output: { input: 'fc2', scale: [0.5, 0.25, 1], offset: null, post: 'none', task: 'classification' } };
}

/** Rows spanning the input quantizer's range, with exact ties (k + 0.5) * scale, as a Float32Array. */
function samplesFor(c: ParsedCircuit, n: number, seed: number): Float32Array {
  const rng = seedrandom(`x${seed}`);
  const s = c.input.scale;
  const span = 2 ** c.input.bitWidth;
  return Float32Array.from({ length: n * c.inputSize }, () => (rng() < 0.2 ? (randInt(rng, -span, span) + 0.5) * s : (rng() * 2.4 - 1.2) * span * s));
}

function runAll(c: ParsedCircuit, X: Float32Array | Float64Array, extra: SimulateOptions = {}): ReturnType<typeof simulateCircuit>[] {
  return (['reference', 'js', 'auto'] as const).flatMap((kernel) => [1, 7, 1024].map((batchSize) => simulateCircuit(c, X, { ...extra, kernel, batchSize, recordRanges: true })));
}

function expectIdentical(results: ReturnType<typeof simulateCircuit>[]): void {
  const [ref, ...rest] = results;
  for (const r of rest) {
    expect(Array.from(r.outputs)).to.deep.equal(Array.from(ref!.outputs));
    expect(r.clampedLookups).to.equal(ref!.clampedLookups);
    expect(r.nodeRanges).to.deep.equal(ref!.nodeRanges);
  }
}

describe('export/simulate kernels', () => {
  it('random conv/pool/add/TLU circuits: auto (float32 tfjs), js and reference give identical integers', () => {
    const before = tf.memory().numTensors;
    let clamped = 0;
    for (let seed = 0; seed < 12; seed++) {
      const c = parseCircuit(randomCnnCircuit(seed));
      expect(float32ExactNodes(c).filter((x) => x).length).to.equal(4); // both convs and both gemms
      const res = runAll(c, samplesFor(c, 37, seed));
      expectIdentical(res);
      clamped += res[0]!.clampedLookups;
    }
    expect(clamped).to.be.greaterThan(0);
    expect(tf.memory().numTensors).to.equal(before);
  });

  it('runs the float32 path as tfjs kernels on this backend', async () => {
    const c = parseCircuit(randomCnnCircuit(3));
    const X = samplesFor(c, 5, 3);
    const names = async (kernel: 'auto' | 'reference'): Promise<string[]> => (await tf.profile(() => { simulateCircuit(c, X, { kernel }); })).kernels.map((k) => k.name);
    const auto = await names('auto');
    if (tf.getBackend() === 'wasm') {
      expect(auto.filter((k) => k === '_FusedMatMul').length).to.equal(2);
      expect(auto.filter((k) => k === 'FusedConv2D').length).to.equal(2);
    }
    expect(await names('reference')).to.deep.equal([]);
  });

  it('nodes whose worst case reaches 2^24 take the exact integer loops (float32 would round them)', () => {
    const big = randomCnnCircuit(5, 7);
    const rng = seedrandom('big');
    const fc1 = big.nodes.find((nd) => nd.name === 'fc1') as Extract<NodeJson, { op: 'gemm' }>;
    const [inF, hidden] = fc1.weights.shape as [number, number];
    // TLU outputs are within ±7: weights up to 2^21 make sums of up to inF * 7 * 2^21 > 2^24, odd values included.
    const bigW = ints(rng, inF * hidden, -(2 ** 21), 2 ** 21).map((v) => v | 1);
    const nodes = big.nodes.map((nd) => (nd.name === 'fc1' ? { ...fc1, weights: encodeIntTensor(bigW, [inF, hidden]), bias: encodeIntTensor(ints(rng, hidden, -3, 3), [hidden]) }
      : nd.name === 'act3' ? tlu(rng, 'act3', 'fc1', [hidden], inF * 7 * 2 ** 21, hidden) : nd));
    const c = parseCircuit({ ...big, nodes });
    const i = c.nodes.findIndex((nd) => nd.name === 'fc1');
    expect(magnitudeBounds(c)[i]).to.be.at.least(2 ** 24);
    expect(float32ExactNodes(c)[i]).to.equal(false);
    const X = samplesFor(c, 64, 9);
    const res = runAll(c, X);
    expectIdentical(res);
    const rr = res[0]!.nodeRanges![i]!;
    expect(Math.max(-rr.min, rr.max)).to.be.greaterThan(2 ** 24);
    expect([rr.min, rr.max].some((v) => Math.fround(v) !== v)).to.equal(true); // a value float32 cannot hold, kept exactly
  });

  it('the float32 input quantizer equals quantizeInput (ties, zero points, narrow ranges, float64 input)', () => {
    const rng = seedrandom('quant');
    for (let t = 0; t < 20; t++) {
      const d = randInt(rng, 1, 40);
      const signed = rng() < 0.5;
      const input = { scale: Math.fround(0.001 + rng()) * (rng() < 0.3 ? 1000 : 1), zeroPoint: randInt(rng, -5, 5), bitWidth: randInt(rng, 1, 16), signed, narrowRange: rng() < 0.5 };
      // identity gemm: the outputs (scale 1) are the quantized inputs
      const eye = Array.from({ length: d * d }, (_, k) => (Math.floor(k / d) === k % d ? 1 : 0));
      const c = parseCircuit({
        formatVersion: CIRCUIT_FORMAT_VERSION, producer: 'test', inputShape: [d], input,
        nodes: [{ op: 'gemm', name: 'id', input: 'input', shape: [d], range: R, worstCase: R, weights: encodeIntTensor(eye, [d, d]), bias: null }],
        output: { input: 'id', scale: [1], offset: null, post: 'none', task: 'regression' },
      });
      const n = 50;
      const X = Float64Array.from({ length: n * d }, () => {
        const k = randInt(rng, -(2 ** 17), 2 ** 17);
        return rng() < 0.5 ? (k + 0.5) * input.scale : (k + rng()) * input.scale * (rng() < 0.5 ? 1 : 1e-3);
      });
      const expected = Array.from(quantizeInput(X, c.input));
      for (const x of [X, Float32Array.from(X)]) {
        const exp = x instanceof Float64Array ? expected : Array.from(quantizeInput(x, c.input));
        for (const kernel of ['auto', 'js', 'reference'] as const) {
          expect(Array.from(simulateCircuit(c, x, { kernel }).outputs), `${kernel} ${JSON.stringify(input)}`).to.deep.equal(exp);
        }
      }
    }
  });

  it('tluFast equals tluInt for every shift, rounding, table layout and out-of-range input', () => {
    const rng = seedrandom('tlu');
    for (let t = 0; t < 60; t++) {
      const shift = t % 31;
      const size = randInt(rng, 1, 9);
      const nTables = rng() < 0.5 ? 1 : size;
      const inMin = randInt(rng, -20, 5);
      const inMax = inMin + randInt(rng, 0, 25);
      const len = inMax - inMin + 1;
      const tables = Int32Array.from(ints(rng, nTables * len, -1000, 1000));
      const p = { shift, rounding: rng() < 0.5 ? 'halfEven' as const : 'halfUp' as const, inMin, inMax, tables, nTables };
      const lim = Math.min(2 ** 31 - 1, 30 * 2 ** shift);
      const x = Int32Array.from({ length: size * 11 }, (_, k) => (k % 5 === 0 ? (randInt(rng, -30, 30) * 2 + 1) * 2 ** Math.max(0, shift - 1) : randInt(rng, -lim, lim)));
      const a = tluInt(x, size, p);
      const b = tluFast(x, size, p);
      const b8 = tluFast(x, size, p, Int16Array.from(tables));
      expect(Array.from(b.values)).to.deep.equal(Array.from(a.values));
      expect(b.clamped).to.equal(a.clamped);
      expect(Array.from(b8.values)).to.deep.equal(Array.from(a.values));
    }
  });

  it('gemmPacked (several outputs per float64) equals gemmInt, dense and sparse, up to the worst case', () => {
    const rng = seedrandom('packed');
    const lanesSeen = new Set<number>();
    for (let t = 0; t < 40; t++) {
      const [n, inF, outF] = [randInt(rng, 1, 9), randInt(rng, 1, 30), randInt(rng, 1, 17)];
      const wMax = 2 ** randInt(rng, 0, 14);
      const xMax = 2 ** randInt(rng, 0, 8);
      const w = Int32Array.from(ints(rng, inF * outF, -wMax, wMax));
      const bias = rng() < 0.5 ? null : Int32Array.from(ints(rng, outF, -wMax, wMax));
      // worst-case inputs (±xMax matching the weight signs) for some samples, random ones (many zeros) for others
      const x = Int32Array.from({ length: n * inF }, (_, i) => {
        const s = Math.floor(i / inF);
        if (s % 3 === 0) return Math.sign(w[(i % inF) * outF + (s % outF)] as number) * xMax * (s % 2 === 0 ? 1 : -1);
        return rng() < 0.6 ? 0 : randInt(rng, -xMax, xMax);
      });
      let bound = 0;
      for (let o = 0; o < outF; o++) {
        let b = Math.abs(bias?.[o] ?? 0);
        for (let k = 0; k < inF; k++) b += Math.abs(w[k * outF + o] as number) * xMax;
        bound = Math.max(bound, b);
      }
      const p = packGemm(w, inF, outF, bias, bound);
      const ref = Array.from(gemmInt(x, n, inF, w, outF, bias));
      if (p === null) { expect(outF === 1 || bound >= 2 ** 25).to.equal(true); continue; }
      lanesSeen.add(p.lanes);
      expect(Array.from(gemmPacked(x, n, p, false))).to.deep.equal(ref);
      expect(Array.from(gemmPacked(x, n, p, true))).to.deep.equal(ref);
    }
    expect(lanesSeen.size).to.be.greaterThan(3);
  });

  it('exported MLP and CNN: identical integers, predictions and clamp counts with every kernel', () => {
    const d = blobs(160, 10, 3);
    const mlp = buildMlp({ inputDim: 10, hidden: [24, 16], nOutputs: 3, aBits: 6, wBits: 5 });
    const x = tf.tensor2d(d.x);
    const y = tf.oneHot(tf.tensor1d(d.y, 'int32'), 3).toFloat();
    trainBriefly(mlp, x, y, 12);
    const { circuit } = exportCircuit(mlp, d.x, { verify: false });
    const c = parseCircuit(circuit);
    expect(float32ExactNodes(c).filter((v) => v).length).to.equal(3);
    expectIdentical(runAll(c, Float64Array.from(d.x.flat())));
    tf.dispose([x, y]);
    mlp.dispose();

    const rng = seedrandom('img');
    const imgs = tf.tidy(() => tf.tensor4d(Float32Array.from({ length: 48 * 8 * 8 * 2 }, () => rng()), [48, 8, 8, 2]));
    const labels = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({ length: 48 }, (_, i) => i % 3), 'int32'), 3).toFloat());
    const cnn = buildCnn([8, 8, 2], 3, 2);
    trainBriefly(cnn, imgs, labels, 6);
    const { circuit: cc } = exportCircuit(cnn, imgs, { verify: false });
    const X = imgs.dataSync() as Float32Array;
    const parsed = parseCircuit(cc);
    expect(float32ExactNodes(parsed).filter((v) => v).length).to.equal(3);
    const res = runAll(parsed, Float32Array.from(X));
    expectIdentical(res);
    expect(res[0]!.predictions).to.deep.equal(res[res.length - 1]!.predictions);
    tf.dispose([imgs, labels]);
    cnn.dispose();
  });

  it('validates the kernel option and TFJS_QAT_SIM_KERNEL', () => {
    const c = parseCircuit(randomCnnCircuit(1));
    const X = samplesFor(c, 2, 1);
    expect(() => simulateCircuit(c, X, { kernel: 'fast' as 'auto' })).to.throw(ConfigError, /kernel must be one of auto, js, reference .* got 'fast'/);
    expect(() => simulateCircuit(c, X, { batchSize: 0 })).to.throw(ConfigError, /batchSize must be a positive integer, got 0/);
    const old = process.env['TFJS_QAT_SIM_KERNEL'];
    try {
      process.env['TFJS_QAT_SIM_KERNEL'] = 'reference';
      const a = simulateCircuit(c, X);
      process.env['TFJS_QAT_SIM_KERNEL'] = 'nope';
      expect(() => simulateCircuit(c, X)).to.throw(ConfigError, /got 'nope'/);
      expect(Array.from(simulateCircuit(c, X, { kernel: 'auto' }).outputs)).to.deep.equal(Array.from(a.outputs));
    } finally {
      if (old === undefined) delete process.env['TFJS_QAT_SIM_KERNEL']; else process.env['TFJS_QAT_SIM_KERNEL'] = old;
    }
  });
});
