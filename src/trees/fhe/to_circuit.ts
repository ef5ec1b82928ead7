/**
 * treeToCircuit: the GEMM form of a quantized tree ensemble in the shared mixed-integer circuit format
 * (docs/circuit-format.md), after Concrete ML's tree models. No new node kinds:
 *
 * 1. `select` (gemm): one-hot `[nFeatures, nodes]` picks each internal node's feature, bias `-threshold`
 *    (rule `<`) or `-(threshold + 1)` (rule `<=`), so `d = x[f] - t` and "goes left" is always `d < 0`;
 * 2. `compare` (tlu, one table): `d < 0 ? 1 : 0`;
 * 3. `paths` (gemm): block-diagonal `[nodes, leaves]` (+1 left subtree, -1 right subtree), bias `-leftTurns`;
 * 4. `leaf` (tlu, one table): `s == 0 ? 1 : 0`;
 * 5. `leaves` (gemm): `[leaves, nOutputs]` integer leaf values, already summed over the trees (W3 times the 0/1
 *    tree-sum matrix, one product instead of two; exactly one leaf per tree is active).
 *
 * The output dequantizer holds the leaf scale divided by the tree count for averaging forests, the base score as
 * offset and sigmoid/softmax as `post`. A binary logistic model (one margin `m`) becomes two outputs `[0, m]` with
 * softmax, which equals `[1 - sigmoid(m), sigmoid(m)]` and lets the simulator's argmax give the class.
 *
 * Input: the circuit's input quantizer is scale 1, zero point 0, unsigned `nBits`; per-feature min/scale is not
 * expressible in format version 1, so the estimator's {@link FeatureQuantizer.normalize} runs in the clear first
 * (the CLI records it as `meta.preprocessing.standardize`).
 */
import { AccumulatorOverflowError, ConfigError } from '../../errors.js';
import { CIRCUIT_FORMAT_VERSION, type CircuitJson, type GemmNodeJson, type NodeJson, type OutputJson, type TluNodeJson } from '../../export/circuit_schema.js';
import { parseCircuit } from '../../export/circuit_parse.js';
import { encodeIntTensor } from '../../export/int_tensor.js';
import type { BitWidthReport, NodeReport } from '../../export/report.js';
import { simulateCircuit } from '../../export/simulate.js';
import { bitsForRange } from '../../quant/int_range.js';
import { gemmMatrices } from '../tensor/gemm.js';
import type { FeatureQuantizer } from './feature_quantizer.js';
import { traverseIntegerTrees, type QuantizedTreeEnsemble } from './quantize_trees.js';

/** A tree circuit: a circuit document with its bit-width report embedded. */
export type TreeCircuit = CircuitJson & { readonly report: BitWidthReport };

/** What {@link treeToCircuit} accepts: a fitted FHE tree estimator or a quantized ensemble. */
export interface TreeCircuitSource {
  /** Integer ensemble. */
  readonly quantized_?: QuantizedTreeEnsemble;
  /** Per-feature input quantizer (estimators). */
  readonly quantizer_?: FeatureQuantizer;
}

/** Options of {@link treeToCircuit}. */
export interface TreeCircuitOptions {
  /**
   * Calibration rows: raw features for an estimator, circuit inputs (integers or normalized features) for a bare
   * quantized ensemble. Gives the calibrated node ranges and the agreement check in the report.
   * @default none (ranges are the worst case)
   */
  calibration?: readonly (readonly number[])[];
  /** Largest table-lookup input allowed, in bits (the TLUs cover every worst-case input). @default 8 */
  maxTluBits?: number;
  /** Provenance stored in `meta`. @default {} */
  meta?: Record<string, unknown>;
}

interface Range { min: number; max: number }

function isQuantizedEnsemble(x: unknown): x is QuantizedTreeEnsemble {
  return typeof x === 'object' && x !== null && 'ensemble' in x && 'leafScale' in x && 'inputBits' in x;
}

/** Resolve the source: the quantized ensemble and (for estimators) the feature quantizer. */
function resolveSource(model: TreeCircuitSource | QuantizedTreeEnsemble): { q: QuantizedTreeEnsemble; quantizer: FeatureQuantizer | null } {
  if (isQuantizedEnsemble(model)) return { q: model, quantizer: null };
  if (typeof model === 'object' && model !== null && model.quantized_ !== undefined) return { q: model.quantized_, quantizer: model.quantizer_ ?? null };
  throw new ConfigError(`treeToCircuit needs a fitted FHE tree estimator or a quantized ensemble (quantizeEnsemble), received ${model === null ? 'null' : typeof model}; call fit(X, y) first.`);
}

/** Interval of `x·W + b` per column for `x` in `input`; returns the overall range. */
function gemmRange(input: Range, w: Int32Array, rows: number, cols: number, bias: Int32Array | null): Range {
  let min = Infinity;
  let max = -Infinity;
  for (let c = 0; c < cols; c++) {
    let lo = bias?.[c] ?? 0;
    let hi = lo;
    for (let r = 0; r < rows; r++) {
      const v = w[r * cols + c] as number;
      if (v > 0) { lo += v * input.min; hi += v * input.max; } else if (v < 0) { lo += v * input.max; hi += v * input.min; }
    }
    min = Math.min(min, lo);
    max = Math.max(max, hi);
  }
  return { min, max };
}

const rangeJson = (r: Range): { min: number; max: number; bits: number } => ({ min: r.min, max: r.max, bits: bitsForRange(r.min, r.max) });

/**
 * Build the tree circuit (format version 1) and its bit-width report.
 * @example
 * const rf = new RandomForestClassifier({nBits: 6}).fit(X, y);
 * const circuit = treeToCircuit(rf, {calibration: X});
 * simulateCircuit(parseCircuit(circuit), rf.quantizer_.normalize(X)).predictions // == class indices of rf.predict(X)
 * @throws ConfigError for an unfitted model; AccumulatorOverflowError if a lookup needs more than `maxTluBits` bits.
 */
export function treeToCircuit(model: TreeCircuitSource | QuantizedTreeEnsemble, options: TreeCircuitOptions = {}): TreeCircuit {
  const { q, quantizer } = resolveSource(model);
  const maxTluBits = options.maxTluBits ?? 8;
  if (!Number.isInteger(maxTluBits) || maxTluBits < 2 || maxTluBits > 16) throw new ConfigError(`maxTluBits must be an integer in [2, 16], received ${maxTluBits}.`);
  const e = q.ensemble;
  const mats = e.trees.map(gemmMatrices);
  const F = e.nFeatures;
  const O = e.nOutputs;
  const binary = e.postTransform === 'sigmoid' && O === 1;
  const outCols = binary ? 2 : O;
  const nI = mats.reduce((s, m) => s + m.internal.length, 0);
  const nL = mats.reduce((s, m) => s + m.leaves.length, 0);
  const w1 = new Int32Array(F * nI);
  const b1 = new Int32Array(nI);
  const w2 = new Int32Array(nI * nL);
  const b2 = new Int32Array(nL);
  const w3 = new Int32Array(nL * outCols);
  const shiftLe = e.splitRule === '<=' ? 1 : 0;
  let io = 0;
  let lo = 0;
  let sumMin = new Array<number>(outCols).fill(0);
  let sumMax = new Array<number>(outCols).fill(0);
  for (const m of mats) {
    m.internal.forEach((_, k) => {
      w1[(m.features[k] as number) * nI + io + k] = 1;
      b1[io + k] = -((m.thresholds[k] as number) + shiftLe);
      (m.w2[k] as number[]).forEach((v, l) => { w2[(io + k) * nL + lo + l] = v; });
    });
    const tMin = new Array<number>(outCols).fill(Infinity);
    const tMax = new Array<number>(outCols).fill(-Infinity);
    m.leaves.forEach((_, l) => {
      b2[lo + l] = -(m.b2[l] as number);
      for (let o = 0; o < outCols; o++) {
        const v = binary ? (o === 1 ? (m.w3[l]?.[0] as number) : 0) : (m.w3[l]?.[o] as number);
        w3[(lo + l) * outCols + o] = v;
        tMin[o] = Math.min(tMin[o] as number, v);
        tMax[o] = Math.max(tMax[o] as number, v);
      }
    });
    sumMin = sumMin.map((s, o) => s + (tMin[o] as number));
    sumMax = sumMax.map((s, o) => s + (tMax[o] as number));
    io += m.internal.length;
    lo += m.leaves.length;
  }

  const nodes: NodeJson[] = [];
  const worst: Range[] = [];
  const tluInputs = new Map<string, Range>();
  const brevitas = new Map<string, { bits: number; fanIn: number }>();
  const gemm = (name: string, input: string, inRange: Range, w: Int32Array, rows: number, cols: number, bias: Int32Array | null, exact?: Range): Range => {
    const r = exact ?? gemmRange(inRange, w, rows, cols, bias);
    brevitas.set(name, brevitasAcc(inRange, w, rows, cols));
    const node: GemmNodeJson = {
      op: 'gemm', name, input, shape: [cols], range: rangeJson(r), worstCase: rangeJson(r),
      weights: encodeIntTensor(w, [rows, cols]), bias: bias === null ? null : encodeIntTensor(bias, [cols]),
    };
    nodes.push(node);
    worst.push(r);
    return r;
  };
  const tlu = (name: string, input: string, inRange: Range, fn: (x: number) => number): Range => {
    const bits = bitsForRange(inRange.min, inRange.max);
    if (bits > maxTluBits) {
      throw new AccumulatorOverflowError(`node '${name}' of the tree circuit: a table lookup needs ${bits} bits (input range [${inRange.min}, ${inRange.max}]), above the limit ${maxTluBits}; lower nBits or maxDepth, or raise maxTluBits.`);
    }
    const table = Array.from({ length: inRange.max - inRange.min + 1 }, (_, i) => fn(inRange.min + i));
    const size = (nodes[nodes.length - 1]?.shape[0] ?? 1);
    const r = { min: 0, max: 1 };
    const node: TluNodeJson = {
      op: 'tlu', name, input, shape: [size], range: rangeJson(r), worstCase: rangeJson(r), shift: 0, rounding: 'halfEven',
      inMin: inRange.min, inMax: inRange.max, tables: encodeIntTensor(table, [1, table.length]),
    };
    nodes.push(node);
    worst.push(r);
    tluInputs.set(name, inRange);
    return r;
  };
  const inRange = { min: 0, max: 2 ** q.inputBits - 1 };
  if (nI > 0) {
    const d = gemm('select', 'input', inRange, w1, F, nI, b1);
    const c = tlu('compare', 'select', d, (x) => (x < 0 ? 1 : 0));
    const s = gemm('paths', 'compare', c, w2, nI, nL, b2);
    tlu('leaf', 'paths', s, (x) => (x === 0 ? 1 : 0));
  } else {
    // Every tree is a single leaf: a constant 0 selects it.
    gemm('paths', 'input', inRange, new Int32Array(F * nL), F, nL, null);
    tlu('leaf', 'paths', { min: 0, max: 0 }, () => 1);
  }
  gemm('leaves', 'leaf', { min: 0, max: 1 }, w3, nL, outCols, null, { min: Math.min(...sumMin), max: Math.max(...sumMax) });

  const div = e.aggregation === 'mean' ? e.trees.length : 1;
  const scale = q.leafScale / div;
  const base = binary ? [0, e.baseScore[0] ?? 0] : [...e.baseScore];
  const output: OutputJson = {
    input: 'leaves', ...(base.some((b) => b !== 0) ? { scale: base.map(() => scale), offset: base } : { scale: [scale], offset: null }),
    post: binary ? 'softmax' : e.postTransform === 'softmax' ? 'softmax' : 'none',
    task: e.kind === 'classifier' ? 'classification' : 'regression',
  };
  const circuit: CircuitJson = {
    formatVersion: CIRCUIT_FORMAT_VERSION, producer: 'tfjs-qat', inputShape: [F],
    input: { scale: 1, zeroPoint: 0, bitWidth: q.inputBits, signed: false, narrowRange: false },
    nodes, output,
    meta: {
      ...options.meta, model: 'trees', treeSource: e.source, nTrees: e.trees.length, binaryLogistic: binary,
      ...(quantizer !== null ? { featureQuantizer: quantizer.toJSON() } : {}),
    },
  };
  return withReport(circuit, q, quantizer, worst, tluInputs, brevitas, options.calibration, maxTluBits);
}

/** Brevitas' `max_acc_bit_width`: `ceil(log2((2^inBits - 1)(2^wBits - 1) · activeFanIn))` (+1 when signed). */
function brevitasAcc(inRange: Range, w: Int32Array, rows: number, cols: number): { bits: number; fanIn: number } {
  let fanIn = 0;
  let wMin = 0;
  let wMax = 0;
  for (let c = 0; c < cols; c++) {
    let k = 0;
    for (let r = 0; r < rows; r++) {
      const v = w[r * cols + c] as number;
      if (v !== 0) k++;
      wMin = Math.min(wMin, v);
      wMax = Math.max(wMax, v);
    }
    fanIn = Math.max(fanIn, k);
  }
  const inBits = bitsForRange(inRange.min, inRange.max);
  const wBits = bitsForRange(wMin, wMax);
  const signed = inRange.min < 0 || wMin < 0;
  const mag = (2 ** inBits - 1) * (2 ** wBits - 1) * Math.max(1, fanIn);
  return { bits: Math.ceil(Math.log2(mag + 1)) + (signed ? 1 : 0), fanIn };
}

/** Calibrate (when rows are given), fill the node ranges and build the report. */
function withReport(circuit: CircuitJson, q: QuantizedTreeEnsemble, quantizer: FeatureQuantizer | null, worst: Range[],
  tluInputs: Map<string, Range>, brevitas: Map<string, { bits: number; fanIn: number }>, calibration: readonly (readonly number[])[] | undefined, limit: number): TreeCircuit {
  let ranges: Range[] = worst;
  let agreement: BitWidthReport['agreement'] = null;
  if (calibration !== undefined && calibration.length > 0) {
    const rows = calibration.map((r) => [...r]);
    const xin = quantizer !== null ? quantizer.normalize(rows) : rows;
    const sim = simulateTreeCircuit(circuit, xin, true);
    ranges = sim.ranges;
    const xq = quantizer !== null ? quantizer.quantize(rows) : xin.map((r) => r.map((v) => Math.min(2 ** q.inputBits - 1, Math.max(0, Math.round(v)))));
    const ref = traverseIntegerTrees(q.ensemble, xq).map((perTree) => {
      const s = new Array<number>(q.ensemble.nOutputs).fill(0);
      for (const v of perTree) v.forEach((z, o) => { s[o] = (s[o] as number) + z; });
      return s;
    });
    let same = 0;
    let maxDiff = 0;
    ref.forEach((r, i) => {
      const got = sim.outputs[i] as number[];
      const d = Math.max(...r.map((v, o) => Math.abs(v - (got[o] as number))));
      if (d === 0) same++;
      maxDiff = Math.max(maxDiff, d);
    });
    agreement = { samples: rows.length, predictionAgreement: same / rows.length, maxDiffSteps: maxDiff };
  }
  const nodes = circuit.nodes.map((n, i) => ({ ...n, range: rangeJson(ranges[i] as Range) })) as NodeJson[];
  const reports: NodeReport[] = nodes.map((n, i) => {
    const tin = n.op === 'tlu' ? tluInputs.get(n.name) : undefined;
    const w = worst[i] as Range;
    const acc = n.op === 'gemm' ? brevitas.get(n.name) : undefined;
    return {
      name: n.name, op: n.op, layers: [n.name], range: n.range, worstCase: rangeJson(w),
      ...(acc !== undefined ? { brevitasAccBits: acc.bits, activeFanIn: acc.fanIn } : {}),
      ...(tin !== undefined && n.op === 'tlu'
        ? { tluInput: { ...rangeJson(tin), shift: 0, rounding: 'halfEven', tables: 1, tableSize: n.inMax - n.inMin + 1 }, pot: false }
        : {}),
    };
  });
  const storedIntegers = nodes.reduce((s, n) => s + (n.op === 'gemm' ? n.weights.shape.reduce((a, b) => a * b, 1) + (n.bias?.shape[0] ?? 0)
    : n.op === 'tlu' ? n.tables.shape.reduce((a, b) => a * b, 1) : 0), 0);
  const base: CircuitJson = { ...circuit, nodes };
  const report: BitWidthReport = {
    maxBitWidth: Math.max(q.inputBits, ...reports.map((r) => r.range.bits)),
    maxTluInputBits: Math.max(0, ...reports.map((r) => r.tluInput?.bits ?? 0)),
    maxWorstCaseAccumulatorBits: Math.max(0, ...reports.filter((r) => r.op === 'gemm').map((r) => r.worstCase.bits)),
    maxBrevitasAccBits: Math.max(0, ...reports.map((r) => r.brevitasAccBits ?? 0)),
    bitWidthLimit: limit,
    nodes: reports,
    potRoundPbs: [],
    rounding: null,
    agreement,
    storedIntegers,
    jsonBytes: Buffer.byteLength(JSON.stringify(base)),
  };
  return { ...base, report };
}

/**
 * Simulate a tree circuit and return the summed integer leaf outputs `[rows][nOutputs]` (the output dequantizer
 * replaced by the identity; for a binary logistic circuit the margin column only).
 * @param x circuit inputs (normalized features, see {@link FeatureQuantizer.normalize}).
 */
export function simulateTreeCircuit(circuit: CircuitJson, x: readonly (readonly number[])[], recordRanges = false): { outputs: number[][]; ranges: Range[] } {
  const raw: CircuitJson = { ...circuit, output: { ...circuit.output, scale: [1], offset: null, post: 'none', task: 'regression' } };
  const parsed = parseCircuit(raw);
  const sim = simulateCircuit(parsed, x, { recordRanges });
  const cols = sim.outputSize;
  const binary = cols === 2 && (circuit.meta as { binaryLogistic?: unknown } | undefined)?.binaryLogistic === true;
  const outputs = Array.from({ length: sim.n }, (_, i) => {
    const row = Array.from(sim.outputs.subarray(i * cols, (i + 1) * cols));
    return binary ? [row[1] as number] : row;
  });
  const ranges = (sim.nodeRanges ?? []).map((r) => (r.min <= r.max ? { min: r.min, max: r.max } : { min: 0, max: 0 }));
  return { outputs, ranges };
}
