// A hand-built 2-node circuit (gemm + TLU) with hand-computed integers, JSON round trip, parser errors.
import { expect } from 'chai';
import { CircuitFormatError } from '../../src/errors.js';
import { CIRCUIT_FORMAT_VERSION, parseCircuit, type CircuitJson } from '../../src/export/circuit_schema.js';
import { simulateCircuit } from '../../src/export/simulate.js';
import { encodeIntTensor, decodeIntTensor } from '../../src/export/int_tensor.js';
import { roundShift } from '../../src/export/sim_kernels.js';

const r = (min: number, max: number, bits: number): { min: number; max: number; bits: number } => ({ min, max, bits });

/** input scale 0.5 (s4) -> gemm W=[[1,2],[3,-1]], b=[1,0] -> TLU shift 1 (halfEven), relu table on [-4,4] -> output scale 0.25. */
export function handBuilt(): CircuitJson {
  return {
    formatVersion: CIRCUIT_FORMAT_VERSION,
    producer: 'hand',
    inputShape: [2],
    input: { scale: 0.5, zeroPoint: 0, bitWidth: 4, signed: true, narrowRange: false },
    nodes: [
      { op: 'gemm', name: 'fc', input: 'input', shape: [2], range: r(-3, 14, 5), worstCase: r(-31, 31, 6), weights: { dtype: 'int8', shape: [2, 2], data: [1, 2, 3, -1] }, bias: { dtype: 'int8', shape: [2], data: [1, 0] } },
      { op: 'tlu', name: 'act', input: 'fc', shape: [2], range: r(0, 4, 3), worstCase: r(0, 4, 3), shift: 1, rounding: 'halfEven', inMin: -4, inMax: 4, tables: { dtype: 'int8', shape: [1, 9], data: [0, 0, 0, 0, 0, 1, 2, 3, 4] } },
    ],
    output: { input: 'act', scale: [0.25], offset: null, post: 'none', task: 'classification' },
  };
}

describe('export/hand-built circuit', () => {
  it('computes the hand-computed integers', () => {
    // x0 = [1, -0.75]: q = [2, -2]; acc = [1 + 2 - 6, 0 + 4 + 2] = [-3, 6]; r = [round(-1.5) = -2, 3]; relu -> [0, 3]; y = [0, 0.75]
    // x1 = [3.3, 0.2]: q = [7 (6.6 -> 7), 0]; acc = [8, 14]; r = [4, 7 -> clamped 4]; y = [1, 1]
    const res = simulateCircuit(handBuilt(), [[1, -0.75], [3.3, 0.2]]);
    expect(Array.from(res.outputs)).to.deep.equal([0, 0.75, 1, 1]);
    expect(res.predictions).to.deep.equal([1, 0]);
    expect(res.clampedLookups).to.equal(1);
  });

  it('round-trips through JSON and simulates identically', () => {
    const c = handBuilt();
    const X = [[1, -0.75], [3.3, 0.2], [-4, 4], [0.26, 0.24]];
    const a = simulateCircuit(parseCircuit(c), X);
    const b = simulateCircuit(parseCircuit(JSON.parse(JSON.stringify(c))), X);
    expect(Array.from(b.outputs)).to.deep.equal(Array.from(a.outputs));
  });

  it('rounds shifted TLU inputs half-even or half-up', () => {
    expect([-3, -1, 1, 3, 5].map((x) => roundShift(x, 1, 'halfEven'))).to.deep.equal([-2, 0, 0, 2, 2]);
    expect([-3, -1, 1, 3, 5].map((x) => roundShift(x, 1, 'halfUp'))).to.deep.equal([-1, 0, 1, 2, 3]);
    expect(roundShift(13, 2, 'halfEven')).to.equal(3);
  });

  it('stores large tensors as base64 typed arrays and decodes them', () => {
    const v = Array.from({ length: 300 }, (_, i) => (i * 37) % 251 - 125);
    const t = encodeIntTensor(v, [3, 100]);
    expect(t.dtype).to.equal('int8');
    expect(typeof t.data).to.equal('string');
    expect(Array.from(decodeIntTensor(t, '$.t').values)).to.deep.equal(v);
    const big = encodeIntTensor(v.map((x) => x * 1000), [300]);
    expect(big.dtype).to.equal('int32');
    expect(Array.from(decodeIntTensor(big, '$.t').values)).to.deep.equal(v.map((x) => x * 1000));
  });

  it('names the JSON path of the first problem', () => {
    const bad = JSON.parse(JSON.stringify(handBuilt())) as { nodes: Array<Record<string, unknown>> };
    (bad.nodes[1] as { tables: { data: number[] } }).tables.data.pop();
    expect(() => parseCircuit(bad)).to.throw(CircuitFormatError, /^\$\.nodes\[1\]\.tables\.data: has 8 values but shape \[1, 9\] needs 9/);
    const bad2 = JSON.parse(JSON.stringify(handBuilt())) as { nodes: Array<Record<string, unknown>> };
    (bad2.nodes[1] as Record<string, unknown>)['input'] = 'nope';
    expect(() => parseCircuit(bad2)).to.throw(CircuitFormatError, /\$\.nodes\[1\]\.input: refers to 'nope'/);
    const bad3 = { ...handBuilt(), formatVersion: CIRCUIT_FORMAT_VERSION + 1 };
    expect(() => parseCircuit(bad3)).to.throw(CircuitFormatError, /\$\.formatVersion: is 2, newer than the newest version this library reads \(1\); upgrade/);
    const bad4 = JSON.parse(JSON.stringify(handBuilt())) as { nodes: Array<Record<string, unknown>> };
    (bad4.nodes[0] as { weights: { shape: number[] } }).weights.shape = [2, 1 << 30];
    expect(() => parseCircuit(bad4)).to.throw(CircuitFormatError, /\$\.nodes\[0\]\.weights\.shape/);
    expect(() => parseCircuit('x')).to.throw(CircuitFormatError, /^\$: must be an object/);
  });

  it('refuses weights whose worst case leaves int32', () => {
    const bad = JSON.parse(JSON.stringify(handBuilt())) as { nodes: Array<Record<string, unknown>> };
    (bad.nodes[0] as { weights: unknown }).weights = { dtype: 'int32', shape: [2, 2], data: [2 ** 30, 1, 1, 1] };
    expect(() => parseCircuit(bad)).to.throw(CircuitFormatError, /\$\.nodes\[0\]: values may reach .* beyond 32-bit/);
  });
});
