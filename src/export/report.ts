/**
 * The bit-width report of an exported circuit (Concrete ML's `bitwidth_and_range_report()` plus
 * `maximum_integer_bit_width()`): per node calibrated and worst-case ranges, TLU input widths, where a
 * power-of-two rescale became an exact shift, the effect of accumulator rounding.
 */

/** One node of the report. */
export interface NodeReport {
  readonly name: string;
  readonly op: string;
  /** Layer(s) this node came from. */
  readonly layers: readonly string[];
  /** Output range on the calibration data and its bit width. */
  readonly range: { readonly min: number; readonly max: number; readonly bits: number };
  /** Worst-case output range from the weights (and the input's worst case). */
  readonly worstCase: { readonly min: number; readonly max: number; readonly bits: number };
  /** TLU only: calibrated input range after rounding and its width (the PBS precision). */
  readonly tluInput?: { readonly min: number; readonly max: number; readonly bits: number; readonly shift: number; readonly rounding: string; readonly tables: number; readonly tableSize: number };
  /** gemm/conv2d only: Brevitas' max_acc_bit_width = ceil(log2((2^inBits-1)(2^wBits-1) activeFanIn)). */
  readonly brevitasAccBits?: number;
  /** gemm/conv2d only: largest number of non-zero weights of an output channel. */
  readonly activeFanIn?: number;
  /** TLU only: the rescale is an exact shift (all scales powers of two, Concrete ML's PoT round-PBS). */
  readonly pot?: boolean;
}

/** Prediction agreement of the circuit with the fake-quantized tfjs model on the calibration data. */
export interface AgreementReport {
  readonly samples: number;
  /** Share of samples with identical predictions (argmax or rounded value). */
  readonly predictionAgreement: number;
  /** Largest |circuit - model| output difference, in output quantization steps. */
  readonly maxDiffSteps: number;
}

/** The whole report. */
export interface BitWidthReport {
  /** Largest calibrated integer bit width of any encrypted value (accumulators included). */
  readonly maxBitWidth: number;
  /** Largest TLU input bit width (must be <= the maxBitWidth option). */
  readonly maxTluInputBits: number;
  /** Largest worst-case accumulator bit width (from the weights). */
  readonly maxWorstCaseAccumulatorBits: number;
  /** Largest Brevitas-formula accumulator width over gemm/conv nodes. */
  readonly maxBrevitasAccBits: number;
  /** The limit the export checked TLU inputs against. */
  readonly bitWidthLimit: number;
  readonly nodes: readonly NodeReport[];
  /** TLU nodes whose rescale is an exact power-of-two shift, with the shift. */
  readonly potRoundPbs: ReadonlyArray<{ readonly node: string; readonly shift: number }>;
  /** Accumulator rounding: null when off. */
  readonly rounding: null | { readonly thresholdBits: number; readonly agreementWithModel: number | null; readonly agreementWithoutRounding: number | null };
  /** Agreement with the tfjs model on the calibration data (null when not verified). */
  readonly agreement: AgreementReport | null;
  /** Total stored integers (weights + tables) and the JSON size in bytes. */
  readonly storedIntegers: number;
  readonly jsonBytes: number;
}

/** A short human-readable rendering of the report (one line per node). */
export function formatReport(r: BitWidthReport): string {
  const lines = [
    `largest integer bit width: ${r.maxBitWidth}; largest TLU input: ${r.maxTluInputBits} bits (limit ${r.bitWidthLimit}); ` +
      `worst-case accumulator: ${r.maxWorstCaseAccumulatorBits} bits (Brevitas formula ${r.maxBrevitasAccBits})`,
  ];
  for (const n of r.nodes) {
    let s = `  ${n.name.padEnd(24)} ${n.op.padEnd(8)} [${n.range.min}, ${n.range.max}] ${n.range.bits} bits (worst ${n.worstCase.bits})`;
    if (n.tluInput !== undefined) {
      s += `; TLU in ${n.tluInput.bits} bits${n.tluInput.shift > 0 ? `, shift ${n.tluInput.shift} (${n.tluInput.rounding})` : ''}, ${n.tluInput.tables} table(s) x ${n.tluInput.tableSize}`;
    }
    if (n.pot === true) s += ', PoT round-PBS (exact shift)';
    lines.push(s);
  }
  if (r.rounding !== null) {
    lines.push(`rounding to ${r.rounding.thresholdBits} bits: agreement with the model ${fmt(r.rounding.agreementWithModel)} (without rounding ${fmt(r.rounding.agreementWithoutRounding)})`);
  }
  if (r.agreement !== null) {
    lines.push(`agreement on ${r.agreement.samples} calibration samples: ${(100 * r.agreement.predictionAgreement).toFixed(2)}% predictions, max diff ${r.agreement.maxDiffSteps.toFixed(3)} output steps`);
  }
  return lines.join('\n');
}

function fmt(x: number | null): string {
  return x === null ? 'n/a' : `${(100 * x).toFixed(2)}%`;
}
