/**
 * The printed report of `npm run bench`: one table per result kind (training, PyTorch comparison, circuit
 * simulation, trees, memory) and the issue's targets with their measured figures. Pure functions of the results,
 * so tests can check them without running anything.
 */
import {
  peerKey, type AnyResult, type CircuitResult, type MemoryResult, type NetName, type PeerResult, type TreesResult, type Variant,
  type WorkloadFailure, type WorkloadResult,
} from './types.js';

/** A child's outcome. */
export type Row = AnyResult | WorkloadFailure;

/** One target of the issues, checked against this run. */
export interface TargetCheck {
  /** What is measured and the target, e.g. 'mlp QAT/float training step <= 1.15'. */
  readonly target: string;
  /** The measured figure (NaN when not measured in this run). */
  readonly value: number;
  /** Whether the target is met (false when not measured). */
  readonly met: boolean;
  /** How the figure was obtained (and supporting figures). */
  readonly detail: string;
}

/** Issue 6: QAT step / float step on the same backend. */
export const QAT_FLOAT_STEP_MAX = 1.15;
/** Issue 6: tfjs-qat / PyTorch fake-quant training throughput, now and as the goal. */
export const TORCH_RATIO_MIN = 0.5;
export const TORCH_RATIO_GOAL = 1.0;
/** Issue 6: circuit simulation / tfjs float inference of the same MLP. */
export const SIM_FLOAT_MIN = 1.0;
/** Issue 6: peak RSS training the MLP on 60,000 samples, MB. */
export const RSS_MAX_MB = 1500;

/** Is this a failure (or a deliberate skip)? */
export const isFailure = (r: Row): r is WorkloadFailure => 'error' in r;
/** Training-loop or estimator row. */
export const isTrain = (r: Row): r is WorkloadResult => !isFailure(r) && (r.kind === undefined || r.kind === 'train');
const isCircuit = (r: Row): r is CircuitResult => !isFailure(r) && r.kind === 'circuit';
const isTrees = (r: Row): r is TreesResult => !isFailure(r) && r.kind === 'trees';
const isMemory = (r: Row): r is MemoryResult => !isFailure(r) && r.kind === 'memory';

/** Fixed-point text, '-' for missing values. */
export function fmt(v: number | undefined, digits = 0): string {
  return v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

/** Rows as an aligned table: the first `left` columns (or the listed column indices) left-aligned, others right. */
export function formatTable(rows: readonly (readonly string[])[], left: number | readonly number[] = 1): string {
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const isLeft = (c: number): boolean => (typeof left === 'number' ? c < left : left.includes(c));
  return rows.map((r) => r.map((v, c) => (isLeft(c) ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  ').trimEnd()).join('\n');
}

/** The float row paired with a QAT row (same net, backend and kernel mode). */
export function floatTwin(rows: readonly Row[], r: WorkloadResult): WorkloadResult | undefined {
  if (r.variant === 'float') return undefined;
  return rows.filter(isTrain).find((f) => f.net === r.net && f.variant === 'float' && f.backend === r.backend && f.kernels === r.kernels);
}

function trainingTable(rows: readonly Row[]): string {
  const out: string[][] = [['workload', 'backend', 'kernels', 'train/s', 'train/CPU-s', 'infer/s', 'ms/step', 'RSS MB',
    'QAT/float step', 'QAT/float CPU', 'kern on/off', 'test acc']];
  const train = rows.filter(isTrain);
  for (const r of train) {
    const f = floatTwin(rows, r);
    const other = train.find((o) => o.workload === r.workload && o.backend === r.backend && o.kernels !== r.kernels);
    out.push([r.workload, r.backend, r.kernels, fmt(r.trainSamplesPerSec), fmt(r.trainSamplesPerCpuSec), fmt(r.inferSamplesPerSec),
      fmt(r.msPerStep, 1), fmt(r.peakRssMB), r.paired !== undefined ? fmt(r.paired.ratio, 2) : f === undefined ? '' : fmt(r.msPerStep / f.msPerStep, 2),
      f === undefined ? '' : fmt(f.trainSamplesPerCpuSec / r.trainSamplesPerCpuSec, 2),
      other === undefined || r.kernels !== 'on' ? '' : fmt(r.trainSamplesPerSec / other.trainSamplesPerSec, 2),
      r.testAccuracy === undefined ? '' : fmt(r.testAccuracy, 3)]);
  }
  return `${formatTable(out, 3)}\n` +
    'QAT/float step = QAT ms per training step / float ms per step (target <= 1.15): the median of paired reps when the float net ran in the\n' +
    'same process (reps alternating), else against the float row; CPU = float CPU-seconds per step / QAT ones, separate processes.';
}

function peerTable(rows: readonly Row[], peer: readonly PeerResult[]): string {
  const out: string[][] = [['workload', 'torch', 'torch train/s', 'train/CPU-s', 'infer/s', 'tfjs/torch train', 'train per CPU-s', 'tfjs/torch infer']];
  const train = rows.filter(isTrain);
  for (const p of peer) {
    const ours = train.filter((t) => (t.net === 'mlp' || t.net === 'cnn') && peerKey(t.net, t.variant) === p.workload);
    const names = [...new Set(ours.map((t) => t.workload))];
    if (names.length === 0) names.push(p.workload);
    for (const name of names) {
      const r = ours.find((t) => t.workload === name && t.kernels === 'on') ?? ours.find((t) => t.workload === name);
      out.push([name === p.workload ? name : `${name} (torch ${p.workload})`, `${p.threads} thread${p.threads === 1 ? '' : 's'}`,
        fmt(p.trainSamplesPerSec), fmt(p.trainSamplesPerCpuSec), fmt(p.inferSamplesPerSec),
        r === undefined ? '-' : fmt(r.trainSamplesPerSec / p.trainSamplesPerSec, 2),
        r === undefined ? '-' : fmt(r.trainSamplesPerCpuSec / p.trainSamplesPerCpuSec, 2),
        r === undefined ? '-' : fmt(r.inferSamplesPerSec / p.inferSamplesPerSec, 2)]);
    }
  }
  return `${formatTable(out, 2)}\n` +
    'tfjs/torch = tfjs-qat (kernels on) / PyTorch with that many threads: training per wall second and per CPU-second, inference per wall second.';
}

function circuitTable(rows: readonly CircuitResult[]): string {
  const out: string[][] = [['workload', 'backend', 'samples', 'simulate/s', 'sim/CPU-s', 'tfjs float/s', 'float/CPU-s', 'float 1 batch/s', 'tfjs QAT/s',
    'sim/float', 'sim/float CPU', 'sim/QAT', 'agreement', 'max TLU bits', 'export ms']];
  for (const r of rows) {
    out.push([r.workload, r.backend, String(r.samples), fmt(r.simulateSamplesPerSec), fmt(r.simulateSamplesPerCpuSec),
      fmt(r.floatPredictSamplesPerSec), fmt(r.floatPredictSamplesPerCpuSec), fmt(r.floatOneBatchSamplesPerSec), fmt(r.qatPredictSamplesPerSec),
      fmt(r.simulateSamplesPerSec / r.floatPredictSamplesPerSec, 2), fmt(r.simulateSamplesPerCpuSec / r.floatPredictSamplesPerCpuSec, 2),
      fmt(r.simulateSamplesPerSec / r.qatPredictSamplesPerSec, 2), fmt(r.agreement, 4), String(r.maxTluInputBits), fmt(r.exportMs)]);
  }
  return `${formatTable(out, 2)}\n` +
    'sim/float = simulateCircuit samples/s / float twin predict (batch 128) samples/s, same backend (target >= 1.0); agreement = circuit argmax vs fake-quant model.';
}

function treesTable(rows: readonly TreesResult[]): string {
  const out: string[][] = [['model', 'strategy', 'backend', 'rows', 'library ms', 'tensor ms', 'speedup', 'same classes']];
  for (const r of rows) {
    for (const m of r.models) {
      for (const s of m.strategies) {
        out.push([m.model, s.strategy, r.backend, String(r.rows), fmt(m.libraryMs), fmt(s.ms), fmt(s.speedup, 2), s.identical ? 'yes' : 'NO']);
      }
    }
  }
  return `${formatTable(out, 3)}\n` +
    'speedup = library predict ms / tensor-form ms (rows -> classes, tensor creation and read-back included; target > 1).';
}

function memoryTable(rows: readonly MemoryResult[]): string {
  const out: string[][] = [['workload', 'backend', 'samples', 'epochs', 'fit s', 'train/s', 'train/CPU-s', 'base RSS MB', 'peak RSS MB', 'leaked tensors']];
  for (const r of rows) {
    out.push([r.workload, r.backend, String(r.samples), String(r.epochs), fmt(r.fitSeconds, 1), fmt(r.trainSamplesPerSec),
      fmt(r.trainSamplesPerCpuSec), fmt(r.baseRssMB), fmt(r.peakRssMB), String(r.leakedTensors)]);
  }
  return `${formatTable(out, 2)}\npeak RSS = maxRSS of the workload's own process (target < ${RSS_MAX_MB} MB).`;
}

const missing = (target: string, why: string): TargetCheck => ({ target, value: NaN, met: false, detail: `not measured: ${why}` });

/** The QAT workloads the issue-6 targets are checked on: both activation-quantizer phases of both nets. */
const QAT_TARGET_WORKLOADS: ReadonlyArray<readonly [NetName, Variant]> = [['mlp', 'qat4'], ['cnn', 'qat4'], ['mlp', 'qat4-learned'], ['cnn', 'qat4-learned']];

/** Check the targets of issues 4, 6 and 7 against this run (kernels-on rows). */
export function evaluateTargets(rows: readonly Row[], peer: readonly PeerResult[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const train = rows.filter(isTrain).filter((r) => r.kernels === 'on');
  for (const [net, variant] of QAT_TARGET_WORKLOADS) {
    const q = train.find((r) => r.net === net && r.variant === variant);
    const f = q === undefined ? undefined : floatTwin(rows, q);
    const name = `${net}-${variant} QAT/float training step <= ${QAT_FLOAT_STEP_MAX}`;
    if (q?.paired !== undefined) {
      const p = q.paired;
      const v = p.ratio;
      checks.push({ target: name, value: v, met: v <= QAT_FLOAT_STEP_MAX,
        detail: `median of ${p.ratios.length} paired reps (${fmt(Math.min(...p.ratios), 2)}-${fmt(Math.max(...p.ratios), 2)})` +
          (p.processRatios === undefined ? '' : `, median process of ${p.processRatios.length} (${p.processRatios.map((r) => fmt(r, 2)).join(', ')})`) +
          `; ${fmt(q.msPerStep, 1)} / ${fmt(p.floatMsPerStep, 1)} ms on ${q.backend}` +
          (f === undefined ? '' : `; vs the ${f.workload} row ${fmt(q.msPerStep / f.msPerStep, 2)}`) });
    } else if (q === undefined || f === undefined) checks.push(missing(name, `${net}-float and ${net}-${variant} not both run`));
    else {
      const v = q.msPerStep / f.msPerStep;
      checks.push({ target: name, value: v, met: v <= QAT_FLOAT_STEP_MAX,
        detail: `${fmt(q.msPerStep, 1)} / ${fmt(f.msPerStep, 1)} ms on ${q.backend}; per CPU-second ${fmt(f.trainSamplesPerCpuSec / q.trainSamplesPerCpuSec, 2)}` });
    }
  }
  for (const [net, variant] of QAT_TARGET_WORKLOADS) {
    const name = `${net}-${variant}`;
    const r = train.find((t) => t.workload === name);
    const ps = peer.filter((p) => p.workload === peerKey(net, variant));
    const label = `${name} tfjs-qat/PyTorch training >= ${TORCH_RATIO_MIN} (goal ${TORCH_RATIO_GOAL})`;
    if (r === undefined || ps.length === 0) { checks.push(missing(label, r === undefined ? `${name} not run` : 'no PyTorch peer')); continue; }
    const best = ps.reduce((a, b) => (b.trainSamplesPerSec > a.trainSamplesPerSec ? b : a));
    const t1 = ps.find((p) => p.threads === 1);
    const v = r.trainSamplesPerSec / best.trainSamplesPerSec;
    checks.push({ target: label, value: v, met: v >= TORCH_RATIO_MIN,
      detail: `${fmt(r.trainSamplesPerSec)} / ${fmt(best.trainSamplesPerSec)} samples/s (torch ${best.threads} thread(s), its faster)` +
        (t1 === undefined ? '' : `; per CPU-second vs 1 thread ${fmt(r.trainSamplesPerCpuSec / t1.trainSamplesPerCpuSec, 2)}`) +
        (v >= TORCH_RATIO_GOAL ? '; goal met' : '') });
  }
  const c = rows.find(isCircuit);
  const simLabel = `circuit simulation / tfjs float inference (MLP) >= ${SIM_FLOAT_MIN}`;
  if (c === undefined) checks.push(missing(simLabel, 'circuit-mlp not run'));
  else {
    const v = c.simulateSamplesPerSec / c.floatPredictSamplesPerSec;
    checks.push({ target: simLabel, value: v, met: v >= SIM_FLOAT_MIN,
      detail: `${fmt(c.simulateSamplesPerSec)} / ${fmt(c.floatPredictSamplesPerSec)} samples/s on ${c.backend}; per CPU-second ${fmt(c.simulateSamplesPerCpuSec / c.floatPredictSamplesPerCpuSec, 2)}; vs fake-quant predict ${fmt(c.simulateSamplesPerSec / c.qatPredictSamplesPerSec, 2)}` +
        (c.floatOneBatchSamplesPerSec === undefined ? '' : `; vs float predict in one batch ${fmt(c.simulateSamplesPerSec / c.floatOneBatchSamplesPerSec, 2)}`) });
  }
  const m = rows.find(isMemory);
  const rssLabel = `peak RSS training the MLP on 60,000 samples < ${RSS_MAX_MB} MB`;
  if (m === undefined) checks.push(missing(rssLabel, 'mlp-rss not run (skipped by --quick)'));
  else checks.push({ target: rssLabel, value: m.peakRssMB, met: m.peakRssMB < RSS_MAX_MB, detail: `${m.samples} rows, ${m.epochs} epoch, ${fmt(m.fitSeconds, 1)} s` });
  const t = rows.find(isTrees);
  if (t === undefined) checks.push(missing('trees tensor form faster than library predict', 'trees not run'));
  else {
    for (const mod of t.models) {
      for (const s of mod.strategies) {
        checks.push({ target: `${mod.model}, ${s.strategy} / library predict > 1`, value: s.speedup, met: s.speedup > 1 && s.identical,
          detail: `${fmt(mod.libraryMs)} / ${fmt(s.ms)} ms on ${t.rows} rows${s.identical ? '' : ', CLASSES DIFFER'}` });
      }
    }
  }
  return checks;
}

/** The whole printed report. */
export function formatReport(rows: readonly Row[], peer: readonly PeerResult[]): string {
  const parts: string[] = [];
  if (rows.some(isTrain)) parts.push(`== Training (batch 128; bc-* = estimator API on breast cancer) ==\n${trainingTable(rows)}`);
  if (peer.length > 0) parts.push(`== tfjs-qat vs PyTorch (same nets, same batch, same run) ==\n${peerTable(rows, peer)}`);
  const circuits = rows.filter(isCircuit);
  if (circuits.length > 0) parts.push(`== Circuit simulation vs tfjs inference ==\n${circuitTable(circuits)}`);
  const trees = rows.filter(isTrees);
  if (trees.length > 0) parts.push(`== Trees: tensor strategies vs library predict ==\n${treesTable(trees)}`);
  const mem = rows.filter(isMemory);
  if (mem.length > 0) parts.push(`== Memory ==\n${memoryTable(mem)}`);
  const fails = rows.filter(isFailure);
  if (fails.length > 0) {
    parts.push(`== Not run ==\n${fails.map((f) => `${f.workload} (${f.backend}, kernels ${f.kernels}): ${f.skipped === true ? 'skipped' : 'FAILED'}: ${f.error}`).join('\n')}`);
  }
  const checks = evaluateTargets(rows, peer);
  parts.push(`== Targets ==\n${formatTable([['target', 'figure', 'status', 'detail'],
    ...checks.map((c) => [c.target, fmt(c.value, c.value > 100 ? 0 : 2), Number.isNaN(c.value) ? 'not measured' : c.met ? 'MET' : 'NOT MET', c.detail])], [0, 2, 3])}`);
  return parts.join('\n\n');
}
