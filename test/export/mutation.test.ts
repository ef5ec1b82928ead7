// 1,000 random mutations of a valid circuit: each ends in a CircuitFormatError or a simulation, nothing else.
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { CircuitFormatError } from '../../src/errors.js';
import { parseCircuit } from '../../src/export/circuit_schema.js';
import { simulateCircuit } from '../../src/export/simulate.js';
import { exportCircuit } from '../../src/export/to_circuit.js';
import { blobs, buildMlp, trainBriefly } from './helpers.js';

type Json = unknown;
type Slot = { parent: Record<string, Json> | Json[]; key: string | number };

function slots(x: Json, out: Slot[] = []): Slot[] {
  if (Array.isArray(x)) x.forEach((v, i) => { out.push({ parent: x, key: i }); slots(v, out); });
  else if (typeof x === 'object' && x !== null) for (const [k, v] of Object.entries(x)) { if (k === 'report') continue; out.push({ parent: x as Record<string, Json>, key: k }); slots(v, out); }
  return out;
}

function mutate(doc: Json, rng: () => number): void {
  const all = slots(doc);
  const s = all[Math.floor(rng() * all.length)] as Slot;
  const parent = s.parent as Record<string | number, Json>;
  const v = parent[s.key];
  const kind = Math.floor(rng() * 8);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rng() * xs.length)] as T;
  switch (kind) {
    case 0: if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 1); else delete parent[s.key]; break;
    case 1: parent[s.key] = pick<Json>(['x', null, {}, [], true, '', 'gemm', 'tlu']); break;
    case 2: parent[s.key] = pick([1e12, -1e12, 2 ** 31, -(2 ** 31) - 1, 0.5, -1, NaN, Infinity, 0, 1 << 30]); break;
    case 3: if (Array.isArray(v)) parent[s.key] = v.slice(0, Math.floor(v.length / 2)); else if (typeof v === 'string') parent[s.key] = v.slice(0, Math.floor(v.length * rng())); else parent[s.key] = []; break;
    case 4: parent[s.key] = pick([1e9, 2 ** 26, 2 ** 40, [1e6, 1e6], [65536, 65536, 3]]); break;
    case 5: if (typeof v === 'number') parent[s.key] = v + pick([1, -1, 7, -100]); else parent[s.key] = 3; break;
    case 6: if (typeof v === 'string' && v.length > 8) parent[s.key] = `${v.slice(0, 4)}!!!!${v.slice(8)}`; else parent[s.key] = pick(['input', 'act', 'halfUp']); break;
    default: if (Array.isArray(v)) parent[s.key] = [...v, ...v]; else parent[s.key] = { nested: v }; break;
  }
}

describe('export/mutation robustness', () => {
  it('1,000 mutations each end in CircuitFormatError or a simulation', () => {
    const d = blobs(120, 6, 3);
    const m = buildMlp({ inputDim: 6, hidden: [12], nOutputs: 3 });
    const x = tf.tensor2d(d.x);
    const y = tf.oneHot(tf.tensor1d(d.y, 'int32'), 3).toFloat();
    trainBriefly(m, x, y, 10);
    const { circuit } = exportCircuit(m, d.x, { verify: false });
    tf.dispose([x, y]);
    m.dispose();
    const text = JSON.stringify(circuit);
    expect(text).to.match(/"data":"[A-Za-z0-9+/=]+"/); // some tensors are base64
    const X = d.x.slice(0, 4);
    const rng = seedrandom('mutations');
    let rejected = 0;
    let simulated = 0;
    for (let i = 0; i < 1000; i++) {
      const doc = JSON.parse(text) as Json;
      const times = 1 + Math.floor(rng() * 3);
      for (let t = 0; t < times; t++) mutate(doc, rng);
      let parsed;
      try {
        parsed = parseCircuit(doc);
      } catch (e) {
        if (!(e instanceof CircuitFormatError)) throw new Error(`mutation ${i}: ${String(e)}`);
        expect(e.message.startsWith('$')).to.equal(true);
        rejected++;
        continue;
      }
      const res = simulateCircuit(parsed, X);
      expect(res.outputs.length).to.equal(X.length * res.outputSize);
      simulated++;
    }
    expect(rejected + simulated).to.equal(1000);
    expect(rejected).to.be.greaterThan(500);
  });
});
