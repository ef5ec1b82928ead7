import { expect } from 'chai';
import { evaluateTargets, formatReport, formatTable, type Row } from '../../bench/report.js';
import type { CircuitResult, MemoryResult, PeerResult, TreesResult, WorkloadResult } from '../../bench/types.js';

const opts = { warmupSteps: 1, reps: 1, stepsPerRep: 1 };
function train(workload: string, net: 'mlp' | 'cnn', variant: 'float' | 'qat4' | 'qat4-learned', msPerStep: number, cpu: number): WorkloadResult {
  return { kind: 'train', workload, net, variant, backend: 'wasm', kernels: 'on', batchSize: 128, trainSamplesPerSec: 128000 / msPerStep,
    trainSamplesPerCpuSec: cpu, inferSamplesPerSec: 1000, msPerStep, peakRssMB: 200, leakedTensors: 0, options: opts };
}
const circuit: CircuitResult = { kind: 'circuit', workload: 'circuit-mlp', backend: 'wasm', kernels: 'on', samples: 512, trainSteps: 6,
  exportMs: 10, simulateSamplesPerSec: 3000, simulateSamplesPerCpuSec: 3000, floatPredictSamplesPerSec: 2000,
  floatPredictSamplesPerCpuSec: 4000, qatPredictSamplesPerSec: 1000, agreement: 1, maxTluInputBits: 13, peakRssMB: 300, leakedTensors: 0 };
const trees: TreesResult = { kind: 'trees', workload: 'trees', backend: 'wasm', kernels: 'on', rows: 100, peakRssMB: 1, leakedTensors: 0,
  models: [{ model: 'rf', libraryMs: 100, strategies: [{ strategy: 'gemm', ms: 50, speedup: 2, identical: true },
    { strategy: 'treeTraversal', ms: 200, speedup: 0.5, identical: true }, { strategy: 'perfectTreeTraversal', ms: 10, speedup: 10, identical: false }] }] };
const memory: MemoryResult = { kind: 'memory', workload: 'mlp-rss', backend: 'wasm', kernels: 'on', samples: 60000, epochs: 1, fitSeconds: 50,
  trainSamplesPerSec: 1200, trainSamplesPerCpuSec: 2000, peakRssMB: 1600, baseRssMB: 180, leakedTensors: 0 };
const peer: PeerResult[] = [
  { workload: 'mlp-qat4', threads: 1, trainSamplesPerSec: 4000, trainSamplesPerCpuSec: 4000, inferSamplesPerSec: 1, msPerStep: 32 },
  { workload: 'mlp-qat4', threads: 2, trainSamplesPerSec: 8000, trainSamplesPerCpuSec: 4000, inferSamplesPerSec: 1, msPerStep: 16 },
];

describe('bench report', () => {
  const rows: Row[] = [train('mlp-float', 'mlp', 'float', 100, 1000), train('mlp-qat4', 'mlp', 'qat4', 110, 800),
    train('mlp-qat4-learned', 'mlp', 'qat4-learned', 105, 900), circuit, trees, memory,
    { workload: 'cnn-qat4', backend: 'auto', kernels: 'on', error: 'boom' }];
  const checks = evaluateTargets(rows, peer);
  const byName = (s: string): (typeof checks)[number] => {
    const c = checks.find((x) => x.target.startsWith(s));
    if (c === undefined) throw new Error(`no check ${s}`);
    return c;
  };

  it('QAT/float is the step-time ratio, met at <= 1.15; a missing pair is not measured', () => {
    expect(byName('mlp-qat4 QAT/float').value).to.be.closeTo(1.1, 1e-12);
    expect(byName('mlp-qat4 QAT/float').met).to.equal(true);
    expect(byName('mlp-qat4 QAT/float').detail).to.match(/per CPU-second 1\.25/);
    expect(byName('mlp-qat4-learned QAT/float').value).to.be.closeTo(1.05, 1e-12);
    expect(Number.isNaN(byName('cnn-qat4 QAT/float').value)).to.equal(true);
    expect(byName('cnn-qat4 QAT/float').met).to.equal(false);
    expect(byName('cnn-qat4-learned QAT/float').met).to.equal(false);
  });

  it('a paired row (float twin timed in the same process) gives the QAT/float figure from its paired reps', () => {
    const paired: WorkloadResult = { ...train('cnn-qat4', 'cnn', 'qat4', 30, 500), paired: { twin: 'cnn-float', floatMsPerStep: 27, ratio: 1.12, ratios: [1.2, 1.12, 1.05], processRatios: [1.3, 1.12, 1.01] } };
    const c = evaluateTargets([train('cnn-float', 'cnn', 'float', 20, 1000), paired], []).find((x) => x.target.startsWith('cnn-qat4 QAT/float'))!;
    expect(c.value).to.equal(1.12);
    expect(c.met).to.equal(true);
    expect(c.detail).to.match(/median of 3 paired reps \(1\.05-1\.20\).*; 30\.0 \/ 27\.0 ms/);
    expect(c.detail).to.match(/vs the cnn-float row 1\.50/);
    expect(c.detail).to.match(/median process of 3 \(1\.30, 1\.12, 1\.01\)/);
    expect(formatReport([paired], [])).to.match(/cnn-qat4 .* 1\.12 /);
  });

  it('torch ratio uses the faster thread count (wall) and reports per-CPU vs 1 thread', () => {
    const c = byName('mlp-qat4 tfjs-qat/PyTorch');
    expect(c.value).to.be.closeTo(128000 / 110 / 8000, 1e-12);
    expect(c.met).to.equal(false);
    expect(c.detail).to.match(/torch 2 thread/);
    expect(c.detail).to.match(/per CPU-second vs 1 thread 0\.20/);
    // the learned-phase variant is compared with the same torch run (its fake-quant has no statistics phase)
    expect(byName('mlp-qat4-learned tfjs-qat/PyTorch').value).to.be.closeTo(128000 / 105 / 8000, 1e-12);
    expect(formatReport(rows, peer)).to.match(/mlp-qat4-learned \(torch mlp-qat4\)\s+2 threads/);
  });

  it('circuit, memory and tree targets', () => {
    expect(byName('circuit simulation').value).to.equal(1.5);
    expect(byName('circuit simulation').met).to.equal(true);
    expect(byName('peak RSS').value).to.equal(1600);
    expect(byName('peak RSS').met).to.equal(false);
    expect(byName('rf, gemm').met).to.equal(true);
    expect(byName('rf, treeTraversal').met).to.equal(false);
    expect(byName('rf, perfectTreeTraversal').met).to.equal(false); // faster but classes differ
  });

  it('formats every section, failures and the targets', () => {
    const text = formatReport(rows, peer);
    for (const h of ['== Training', '== tfjs-qat vs PyTorch', '== Circuit simulation', '== Trees', '== Memory', '== Not run', '== Targets']) {
      expect(text).to.contain(h);
    }
    expect(text).to.match(/cnn-qat4 \(auto, kernels on\): FAILED: boom/);
    expect(text).to.match(/NOT MET/);
  });

  it('formatTable aligns columns', () => {
    expect(formatTable([['a', 'bb'], ['ccc', 'd']], 1)).to.equal('a    bb\nccc   d');
    expect(formatTable([['a', 'bb'], ['ccc', 'd']], [0, 1])).to.equal('a    bb\nccc  d');
  });
});
