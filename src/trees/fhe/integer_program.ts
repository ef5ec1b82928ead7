/**
 * The GEMM form of a quantized ensemble as an integer program: the FHE circuit of Concrete ML's tree models,
 * self-contained until the circuit format (src/export) can take it. Stages, all on integers:
 *
 * 1. `matmul select` — one-hot W1 `[nFeatures, nodes]` picks each internal node's feature (levelled);
 * 2. `add -thresholds` — `d = x[feature] - threshold` (levelled);
 * 3. `lut compare` — `c = d < 0` (rule `<`) or `d <= 0` (rule `<=`) as 0/1: a table lookup;
 * 4. `matmul paths` — block-diagonal W2 `[nodes, leaves]` (+1 left subtree, -1 right subtree);
 * 5. `add -leftTurns` — minus B2 (left turns per leaf);
 * 6. `lut leaf` — `leaf = (s == 0)`: a table lookup;
 * 7. `matmul leaves` — block-diagonal W3 `[leaves, trees*outputs]` of integer leaf values;
 * 8. `matmul sumTrees` — 0/1 matrix summing the trees per output (levelled).
 *
 * The output times `leafScale` is the summed real leaf output; aggregation (mean), base score, sigmoid/softmax and
 * argmax stay in the clear, as in Concrete ML's post-processing. Each stage carries its exact input range
 * (interval arithmetic), so the report gives the largest table-lookup input in bits.
 */
import { AccumulatorOverflowError, DataError } from '../../errors.js';
import { gemmMatrices } from '../tensor/gemm.js';
import type { QuantizedTreeEnsemble } from './quantize_trees.js';

/** Closed integer interval. */
export interface IntRange {
  /** Smallest value. */
  min: number;
  /** Largest value. */
  max: number;
}

/** One stage of an {@link IntegerTreeProgram}. */
export type IntegerStage =
  | { op: 'matmul'; name: string; rows: number; cols: number; weights: number[]; inputRange: IntRange; outputRange: IntRange }
  | { op: 'add'; name: string; bias: number[]; inputRange: IntRange; outputRange: IntRange }
  | { op: 'lut'; name: string; offset: number; table: number[]; inputRange: IntRange; inputBits: number; outputRange: IntRange };

/** Width report of a program (Concrete ML's `bitwidth_and_range_report` analogue). */
export interface TreeBitWidthReport {
  /** Bits of the integer inputs. */
  inputBits: number;
  /** Largest table-lookup input, in bits (signed). */
  maxTluInputBits: number;
  /** Bits of the largest accumulator (any matmul/add output), signed. */
  accumulatorBits: number;
  /** Per stage: name, op, input range and bits. */
  stages: { name: string; op: string; inputRange: IntRange; bits: number }[];
}

/** Integer GEMM program of a quantized tree ensemble. */
export interface IntegerTreeProgram {
  /** Format version of this object. */
  formatVersion: 1;
  /** Tag. */
  kind: 'treeGemmProgram';
  /** Input features. */
  nFeatures: number;
  /** Bits of each (unsigned) input. */
  inputBits: number;
  /** Trees. */
  nTrees: number;
  /** Width of the output. */
  nOutputs: number;
  /** Real value of one output unit. */
  outputScale: number;
  /** The stages, in order. */
  stages: IntegerStage[];
  /** Width report. */
  report: TreeBitWidthReport;
}

/** Bits of a signed integer holding every value of `r` (at least 1; 2 if it holds a negative). */
export function signedBits(r: IntRange): number {
  const mag = Math.max(r.max, -r.min - 1, 0);
  const bits = Math.ceil(Math.log2(mag + 1));
  return r.min < 0 ? bits + 1 : Math.max(1, bits);
}

function matmulRange(input: IntRange, weights: number[], rows: number, cols: number): IntRange {
  let min = 0;
  let max = 0;
  for (let c = 0; c < cols; c++) {
    let lo = 0;
    let hi = 0;
    for (let r = 0; r < rows; r++) {
      const w = weights[r * cols + c] as number;
      if (w > 0) { lo += w * input.min; hi += w * input.max; } else if (w < 0) { lo += w * input.max; hi += w * input.min; }
    }
    if (c === 0 || lo < min) min = lo;
    if (c === 0 || hi > max) max = hi;
  }
  return { min, max };
}

/**
 * Build the integer GEMM program of a quantized ensemble.
 * @throws AccumulatorOverflowError if a table lookup needs more than `maxTluBits` bits.
 * @example
 * const prog = treeToIntegerProgram(quantized);
 * prog.report.maxTluInputBits // 7 for 6-bit inputs
 */
export function treeToIntegerProgram(q: QuantizedTreeEnsemble, options: { maxTluBits?: number } = {}): IntegerTreeProgram {
  const e = q.ensemble;
  const mats = e.trees.map(gemmMatrices);
  const F = e.nFeatures;
  const O = e.nOutputs;
  const T = mats.length;
  const nI = mats.reduce((s, m) => s + m.internal.length, 0);
  const nL = mats.reduce((s, m) => s + m.leaves.length, 0);
  const w1 = new Array<number>(F * nI).fill(0);
  const b1: number[] = [];
  const w2 = new Array<number>(nI * nL).fill(0);
  const b2: number[] = [];
  const w3 = new Array<number>(nL * T * O).fill(0);
  let io = 0;
  let lo = 0;
  mats.forEach((m, t) => {
    m.internal.forEach((_, k) => {
      w1[(m.features[k] as number) * nI + io + k] = 1;
      b1.push(-(m.thresholds[k] as number));
      (m.w2[k] as number[]).forEach((v, l) => { w2[(io + k) * nL + lo + l] = v; });
    });
    m.leaves.forEach((_, l) => {
      b2.push(-(m.b2[l] as number));
      (m.w3[l] as number[]).forEach((v, o) => { w3[(lo + l) * T * O + t * O + o] = v; });
    });
    io += m.internal.length;
    lo += m.leaves.length;
  });
  const sum = new Array<number>(T * O * O).fill(0);
  for (let t = 0; t < T; t++) for (let o = 0; o < O; o++) sum[(t * O + o) * O + o] = 1;

  const stages: IntegerStage[] = [];
  let range: IntRange = { min: 0, max: 2 ** q.inputBits - 1 };
  const matmul = (name: string, weights: number[], rows: number, cols: number): void => {
    const out = matmulRange(range, weights, rows, cols);
    stages.push({ op: 'matmul', name, rows, cols, weights, inputRange: range, outputRange: out });
    range = out;
  };
  const add = (name: string, bias: number[]): void => {
    const out = { min: range.min + Math.min(0, ...bias), max: range.max + Math.max(0, ...bias) };
    stages.push({ op: 'add', name, bias, inputRange: range, outputRange: out });
    range = out;
  };
  const lut = (name: string, fn: (x: number) => number): void => {
    const table = Array.from({ length: range.max - range.min + 1 }, (_, i) => fn(range.min + i));
    stages.push({ op: 'lut', name, offset: range.min, table, inputRange: range, inputBits: signedBits(range), outputRange: { min: 0, max: 1 } });
    range = { min: 0, max: 1 };
  };
  if (nI > 0) {
    matmul('select', w1, F, nI);
    add('minusThresholds', b1);
    lut('compare', e.splitRule === '<' ? (d) => (d < 0 ? 1 : 0) : (d) => (d <= 0 ? 1 : 0));
    matmul('paths', w2, nI, nL);
    add('minusLeftTurns', b2);
  } else {
    // Every tree is a single leaf: a constant 0 input to the equality table selects it.
    matmul('paths', new Array<number>(F * nL).fill(0), F, nL);
  }
  lut('leaf', (s) => (s === 0 ? 1 : 0));
  matmul('leaves', w3, nL, T * O);
  // Exactly one leaf per tree is active, so the exact ranges come from the leaf values, not interval arithmetic.
  const perTree = mats.map((m) => Array.from({ length: O }, (_, o) => ({
    min: Math.min(...m.w3.map((v) => v[o] as number)), max: Math.max(...m.w3.map((v) => v[o] as number)),
  })));
  const leafStage = stages[stages.length - 1] as IntegerStage;
  leafStage.outputRange = { min: Math.min(...perTree.flat().map((r) => r.min)), max: Math.max(...perTree.flat().map((r) => r.max)) };
  range = leafStage.outputRange;
  matmul('sumTrees', sum, T * O, O);
  const sumStage = stages[stages.length - 1] as IntegerStage;
  const sums = Array.from({ length: O }, (_, o) => perTree.reduce((a, t) => ({ min: a.min + (t[o] as IntRange).min, max: a.max + (t[o] as IntRange).max }), { min: 0, max: 0 }));
  sumStage.outputRange = { min: Math.min(...sums.map((r) => r.min)), max: Math.max(...sums.map((r) => r.max)) };

  const tluBits = stages.filter((s) => s.op === 'lut').map((s) => signedBits(s.inputRange));
  const report: TreeBitWidthReport = {
    inputBits: q.inputBits,
    maxTluInputBits: Math.max(...tluBits),
    accumulatorBits: Math.max(...stages.filter((s) => s.op !== 'lut').map((s) => signedBits(s.outputRange))),
    stages: stages.map((s) => ({ name: s.name, op: s.op, inputRange: s.inputRange, bits: signedBits(s.inputRange) })),
  };
  const limit = options.maxTluBits ?? 16;
  if (report.maxTluInputBits > limit) {
    throw new AccumulatorOverflowError(`a table lookup of the tree program needs ${report.maxTluInputBits} bits, above the limit ${limit}; lower nBits (inputs) or maxDepth.`);
  }
  return { formatVersion: 1, kind: 'treeGemmProgram', nFeatures: F, inputBits: q.inputBits, nTrees: T, nOutputs: O, outputScale: q.leafScale, stages, report };
}

/**
 * Run a program on integer rows with exact integer arithmetic (the FHE simulation): `[rows][nOutputs]` integers.
 * @throws DataError if a row is not `nFeatures` integers in the input range.
 */
export function runIntegerProgram(p: IntegerTreeProgram, xq: readonly (readonly number[])[]): number[][] {
  const hi = 2 ** p.inputBits - 1;
  return xq.map((row, ri) => {
    if (row.length !== p.nFeatures || !row.every((v) => Number.isInteger(v) && v >= 0 && v <= hi)) {
      throw new DataError(`runIntegerProgram: row ${ri} must be ${p.nFeatures} integers in [0, ${hi}], received ${JSON.stringify(row).slice(0, 60)}.`);
    }
    let v: number[] = [...row];
    for (const s of p.stages) {
      if (s.op === 'matmul') {
        const out = new Array<number>(s.cols).fill(0);
        for (let r = 0; r < s.rows; r++) {
          const x = v[r] as number;
          if (x === 0) continue;
          const base = r * s.cols;
          for (let c = 0; c < s.cols; c++) out[c] = (out[c] as number) + x * (s.weights[base + c] as number);
        }
        v = out;
      } else if (s.op === 'add') {
        v = v.map((x, i) => x + (s.bias[i] as number));
      } else {
        v = v.map((x) => {
          const y = s.table[x - s.offset];
          if (y === undefined) throw new DataError(`runIntegerProgram: ${s.name} input ${x} is outside the table range [${s.inputRange.min}, ${s.inputRange.max}].`);
          return y;
        });
      }
    }
    return v;
  });
}
