/**
 * CircuitBuilder: the state the converters drive, one layer at a time. It keeps the current integer tensor
 * (its node, shape, calibration values and worst-case range), how those integers map to floats, and the pending
 * chain of float univariate ops; a quantizer closes the chain into one TLU node.
 */
import type * as tf from '@tensorflow/tfjs';
import { AccumulatorOverflowError, UnsupportedLayerError } from '../errors.js';
import { bitsForRange } from '../quant/int_range.js';
import type { QuantMeta } from '../layers/quant_meta.js';
import type { InputQuantJson, NodeJson, TluRounding } from './circuit_schema.js';
import { encodeIntTensor } from './int_tensor.js';
import { MAX_INT_MAGNITUDE } from './circuit_parse.js';
import type { NodeReport } from './report.js';
import { minMax, quantizeInput, roundShift, tluInt } from './sim_kernels.js';
import { computeTables, type ChainOp, type FloatMap } from './tlu_table.js';

/** Resolved export options the builder needs. */
export interface BuilderOptions {
  readonly maxBitWidth: number;
  readonly roundingThresholdBits: number | null;
  /** Largest total table entries for widening a table to its full bit-width domain. */
  readonly tableBudget: number;
}

/** The current integer tensor. */
export interface Current {
  readonly node: string;
  readonly shape: number[];
  readonly values: Int32Array;
  readonly worst: { min: number; max: number };
  readonly map: FloatMap;
  /** The quantizer grid when the integers are a quantizer's output, else null (accumulator). */
  readonly quantized: QuantMeta | null;
  readonly chain: ChainOp[];
  /** Rank of the float tensor in the model, batch included. */
  readonly rank: number;
}

const isPow2 = (x: number): boolean => x > 0 && Number.isFinite(x) && 2 ** Math.round(Math.log2(x)) === x;

/** Incrementally builds nodes and calibrates them on the calibration batch. */
export class CircuitBuilder {
  readonly nodes: NodeJson[] = [];
  readonly reports: NodeReport[] = [];
  readonly pot: Array<{ node: string; shift: number }> = [];
  input: InputQuantJson | null = null;
  cur: Current | null = null;
  storedIntegers = 0;
  private readonly names = new Set<string>(['input']);

  constructor(readonly calib: { data: Float32Array; n: number; inputShape: number[] }, readonly options: BuilderOptions) {}

  /** The current tensor; throws when the input quantizer is missing. */
  current(layer: tf.layers.Layer): Current {
    if (this.cur === null) {
      throw new UnsupportedLayerError(`layer '${layer.name}' (${layer.getClassName()}) comes before the input quantizer; the first layer must be a QuantIdentity`);
    }
    return this.cur;
  }

  /** A unique node name derived from `base`. */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /** Set the input quantizer (applied in the clear) from the first QuantIdentity's grid. */
  setInput(meta: QuantMeta): void {
    const scale = typeof meta.scale === 'number' ? meta.scale : (meta.scale[0] ?? NaN);
    this.input = { scale, zeroPoint: meta.zeroPoint, bitWidth: meta.bitWidth, signed: meta.signed, narrowRange: meta.narrowRange };
    const values = quantizeInput(this.calib.data, this.input);
    const lo = meta.signed ? -(2 ** (meta.bitWidth - 1)) + (meta.narrowRange ? 1 : 0) : 0;
    const hi = meta.signed ? 2 ** (meta.bitWidth - 1) - 1 : 2 ** meta.bitWidth - 1 - (meta.narrowRange ? 1 : 0);
    this.cur = {
      node: 'input', shape: [...this.calib.inputShape], values, worst: { min: lo, max: hi },
      map: { scale: [scale], bias: null, channels: 1 }, quantized: meta, chain: [], rank: this.calib.inputShape.length + 1,
    };
  }

  /** Require a clean quantized input (a quantizer output with no pending float op) for a mixing layer. */
  requireQuantized(layer: tf.layers.Layer): Current & { quantized: QuantMeta } {
    const c = this.current(layer);
    if (c.quantized === null || c.chain.length > 0) {
      const why = c.chain.length > 0 ? `float layer(s) ${c.chain.map((o) => `'${o.layer}'`).join(', ')} come after the last quantizer` : 'its input is an un-requantized accumulator';
      throw new UnsupportedLayerError(`layer '${layer.name}' (${layer.getClassName()}) needs an integer input, but ${why}; put a QuantIdentity right before it`);
    }
    return c as Current & { quantized: QuantMeta };
  }

  /** Add a node, its report entry and make it current. */
  addNode(node: NodeJson, report: NodeReport, next: Current): void {
    this.nodes.push(node);
    this.reports.push(report);
    this.cur = next;
  }

  /** Push a float op onto the pending chain. */
  pushOp(layer: tf.layers.Layer, op: ChainOp): void {
    const c = this.current(layer);
    if (op.kind === 'perChannel') {
      const d = op.channels ?? 1;
      if (c.map.channels !== 1 && c.map.channels !== d) {
        throw new UnsupportedLayerError(`layer '${layer.name}' (${layer.getClassName()}) works on ${d} channels but the values before it vary over ${c.map.channels}; put it right after the layer that produces those channels`);
      }
    }
    this.cur = { ...c, chain: [...c.chain, op] };
  }

  /** Change the shape (flatten/reshape): data unchanged, a reshape node when the shape differs. */
  reshape(layer: tf.layers.Layer, shape: number[]): void {
    const c = this.current(layer);
    if (shape.reduce((a, b) => a * b, 1) !== c.shape.reduce((a, b) => a * b, 1)) {
      throw new UnsupportedLayerError(`layer '${layer.name}' reshapes ${c.shape.join('x')} into ${shape.join('x')}, which has a different size`);
    }
    if (c.chain.some((o) => o.kind === 'perChannel') && shape[shape.length - 1] !== c.shape[c.shape.length - 1]) {
      throw new UnsupportedLayerError(`layer '${layer.name}' reshapes values that still wait for a per-channel float op; put a QuantIdentity before it`);
    }
    const name = this.uniqueName(layer.name);
    const mm = minMax(c.values);
    const range = { ...mm, bits: bitsForRange(mm.min, mm.max) };
    const worstCase = { ...c.worst, bits: bitsForRange(c.worst.min, c.worst.max) };
    this.addNode({ op: 'reshape', name, input: c.node, shape, range, worstCase }, { name, op: 'reshape', layers: [layer.name], range, worstCase },
      { ...c, node: name, shape, rank: shape.length + 1 });
  }

  /**
   * Close the pending chain into one TLU node ending with `quantize` (whose output grid is `outMeta`).
   * The TLU input is rounded by `roundingThresholdBits`, or shifted exactly when every scale is a power of two.
   * @throws AccumulatorOverflowError when the TLU input needs more than maxBitWidth bits.
   */
  closeWithTlu(layerNames: string[], nodeBase: string, quantize: (t: tf.Tensor) => tf.Tensor, outMeta: QuantMeta, exactShift?: number): void {
    const c = this.cur;
    if (c === null) throw new UnsupportedLayerError(`'${nodeBase}' has no input`);
    const mixing = c.chain.find((o) => o.univariate === false);
    if (mixing !== undefined) {
      throw new UnsupportedLayerError(`layer '${mixing.layer}' (${mixing.clearName ?? 'softmax'}) mixes the values of a sample, so it cannot be part of a table lookup; ` +
        'use it only as the last layer (it then runs in the clear after the output dequantizer)');
    }
    const name = this.uniqueName(nodeBase);
    const mm = minMax(c.values);
    const outScale = typeof outMeta.scale === 'number' ? outMeta.scale : (outMeta.scale[0] ?? NaN);
    let shift = 0;
    let rounding: TluRounding = 'halfEven';
    let pot = false;
    const perChannel = c.map.channels > 1 || c.map.bias !== null || c.chain.some((o) => o.kind === 'perChannel');
    if (exactShift !== undefined) {
      shift = exactShift;
    } else if (this.options.roundingThresholdBits !== null) {
      shift = Math.max(0, bitsForRange(mm.min, mm.max) - this.options.roundingThresholdBits);
      rounding = 'halfUp';
    } else if (!perChannel && outMeta.zeroPoint === 0 && c.chain.every((o) => o.shiftExact) && isPow2(c.map.scale[0] ?? 0) && isPow2(outScale)) {
      const k = Math.round(Math.log2(outScale) - Math.log2(c.map.scale[0] ?? 1));
      if (k >= 1) {
        shift = Math.min(k, 30);
        pot = true;
      }
    }
    const rLo = roundShift(mm.min, shift, rounding);
    const rHi = roundShift(mm.max, shift, rounding);
    const inBits = bitsForRange(rLo, rHi);
    if (inBits > this.options.maxBitWidth) {
      throw new AccumulatorOverflowError(`node '${name}' (layers ${layerNames.join(', ')}): this ${inBits}-bit value is used as an input to a table lookup ` +
        `(calibrated range [${rLo}, ${rHi}]), above the limit of ${this.options.maxBitWidth} bits; use roundingThresholdBits (e.g. 6-8), ` +
        'fewer weight/activation bits, or prune (nAccumBits)');
    }
    const nTables = perChannel ? Math.max(c.map.channels, ...c.chain.map((o) => (o.kind === 'perChannel' ? (o.channels ?? 1) : 1))) : 1;
    // Cover every input of the calibrated bit width (what a TLU of that width accepts), unless too large.
    let dMin = rLo < 0 ? -(2 ** (inBits - 1)) : 0;
    let dMax = rLo < 0 ? 2 ** (inBits - 1) - 1 : 2 ** inBits - 1;
    if ((dMax - dMin + 1) * nTables > this.options.tableBudget) {
      dMin = rLo;
      dMax = rHi;
    }
    const tables = computeTables(dMin, dMax, shift, nTables, c.map, c.chain, quantize, c.rank);
    const size = c.shape.reduce((a, b) => a * b, 1);
    const out = tluInt(c.values, size, { shift, rounding, inMin: dMin, inMax: dMax, tables, nTables });
    const tm = minMax(tables);
    const vm = minMax(out.values);
    const range = { ...vm, bits: bitsForRange(vm.min, vm.max) };
    const worstCase = { ...tm, bits: bitsForRange(tm.min, tm.max) };
    this.storedIntegers += tables.length;
    const node: NodeJson = {
      op: 'tlu', name, input: c.node, shape: [...c.shape], range, worstCase, shift, rounding, inMin: dMin, inMax: dMax,
      tables: encodeIntTensor(tables, [nTables, dMax - dMin + 1]),
    };
    if (pot || exactShift !== undefined) this.pot.push({ node: name, shift });
    this.addNode(node, {
      name, op: 'tlu', layers: layerNames, range, worstCase, pot: pot || exactShift !== undefined,
      tluInput: { min: rLo, max: rHi, bits: inBits, shift, rounding, tables: nTables, tableSize: dMax - dMin + 1 },
    }, {
      node: name, shape: [...c.shape], values: out.values, worst: tm, map: { scale: [outScale], bias: null, channels: 1 },
      quantized: outMeta, chain: [], rank: c.rank,
    });
  }

  /** Check a worst-case accumulator range against int32 arithmetic. */
  checkWorst(name: string, worst: { min: number; max: number }): void {
    if (Math.max(-worst.min, worst.max) > MAX_INT_MAGNITUDE) {
      throw new AccumulatorOverflowError(`node '${name}': the worst-case accumulator [${worst.min}, ${worst.max}] exceeds 32-bit integers; use fewer bits or prune`);
    }
  }

  /** Encode integer weights and count them. */
  encode(values: ArrayLike<number>, shape: number[]): ReturnType<typeof encodeIntTensor> {
    this.storedIntegers += values.length;
    return encodeIntTensor(values, shape);
  }
}
