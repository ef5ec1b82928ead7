/** Options of `exportOnnx`, resolved and validated in one function. */
import { ConfigError } from '../../errors.js';

/** The two ONNX dialects: Brevitas' `export_onnx_qcdq` and `export_qonnx`. */
export type OnnxFormat = 'qcdq' | 'qonnx';

/** Custom-op domains of the QONNX `Quant` node: Brevitas 0.10 (Concrete ML's pin) or QONNX HEAD. */
export const QONNX_DOMAINS = ['onnx.brevitas', 'qonnx.custom_op.general'] as const;
/** One of `QONNX_DOMAINS`. */
export type QonnxDomain = (typeof QONNX_DOMAINS)[number];

/** How a QuantAvgPool2D is written in QONNX. */
export type QonnxAvgPoolMode = 'quant' | 'trunc';

/** Options of `exportOnnx` / `exportOnnxToFile`. */
export interface ExportOnnxOptions {
  /** 'qcdq' (QuantizeLinear/Clip/DequantizeLinear, runs in any ONNX runtime) or 'qonnx' (Brevitas `Quant` nodes, for Concrete ML). */
  format: OnnxFormat;
  /**
   * Input shape in the tfjs layout (NHWC for images): either one sample (`[28, 28, 1]`) or with a leading batch
   * dimension (`[null, 28, 28, 1]`, `[-1, ...]` or a number). @default the model's input shape
   */
  inputShape?: readonly (number | null)[];
  /** Batch dimension of the graph input: a fixed size or a symbolic 'batch'. @default 'batch' (or the batch of inputShape when it is a number) */
  batchSize?: number | 'batch';
  /** Layout of a rank-4 graph input: 'nchw' (ONNX/PyTorch; feed transposed data) or 'nhwc' (tfjs data, a Transpose is added). @default 'nchw' */
  inputLayout?: 'nchw' | 'nhwc';
  /** Domain of QONNX `Quant`/`Trunc` nodes. @default 'onnx.brevitas' (Brevitas 0.10, pinned by Concrete ML) */
  qonnxDomain?: QonnxDomain;
  /**
   * QONNX form of QuantAvgPool2D: 'quant' = AveragePool -> Div(s/k) -> Quant(scale 1, sum bits) -> Quant(scale ts,
   * out bits) -> Mul(s/k), only `Quant` custom ops (Concrete ML reads it); 'trunc' = AveragePool -> Brevitas `Trunc`
   * -> Mul(ts) -> Clip. Both are exact in float32. @default 'quant'
   */
  qonnxAvgPool?: QonnxAvgPoolMode;
  /** Graph input name. @default 'input' */
  inputName?: string;
  /** Graph output name. @default 'output' */
  outputName?: string;
  /** Graph name. @default the model's name */
  graphName?: string;
}

/** Options after defaults. */
export interface ResolvedOnnxOptions {
  readonly format: OnnxFormat;
  readonly inputShape: readonly (number | null)[] | null;
  readonly batchSize: number | 'batch' | null;
  readonly inputLayout: 'nchw' | 'nhwc';
  readonly qonnxDomain: QonnxDomain;
  readonly qonnxAvgPool: QonnxAvgPoolMode;
  readonly inputName: string;
  readonly outputName: string;
  readonly graphName: string | null;
}

const KEYS = ['format', 'inputShape', 'batchSize', 'inputLayout', 'qonnxDomain', 'qonnxAvgPool', 'inputName', 'outputName', 'graphName'];

function oneOf<T extends string>(v: unknown, allowed: readonly T[], what: string, dflt: T): T {
  if (v === undefined) return dflt;
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  throw new ConfigError(`exportOnnx: ${what} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(v)}`);
}

function name(v: unknown, what: string, dflt: string): string {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.:-]*$/.test(v)) {
    throw new ConfigError(`exportOnnx: ${what} must be an identifier (letters, digits, _ . : -), got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Validate and fill defaults. @throws ConfigError naming the bad option and the accepted values. */
export function resolveOnnxOptions(o: unknown): ResolvedOnnxOptions {
  if (typeof o !== 'object' || o === null) throw new ConfigError(`exportOnnx: options must be an object like {format: 'qcdq'}, got ${String(o)}`);
  const r = o as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (!KEYS.includes(k)) throw new ConfigError(`exportOnnx: unknown option '${k}'; accepted: ${KEYS.join(', ')}`);
  }
  if (r['format'] === undefined) throw new ConfigError(`exportOnnx: option 'format' is required: 'qcdq' or 'qonnx'`);
  const format = oneOf(r['format'], ['qcdq', 'qonnx'] as const, 'format', 'qcdq');
  let inputShape: (number | null)[] | null = null;
  if (r['inputShape'] !== undefined) {
    const s = r['inputShape'];
    if (!Array.isArray(s) || s.length === 0 || !s.every((d: unknown) => d === null || (typeof d === 'number' && Number.isInteger(d) && (d >= 1 || d === -1)))) {
      throw new ConfigError(`exportOnnx: inputShape must be a non-empty array of positive integers (null or -1 allowed for the batch), got ${JSON.stringify(s)}`);
    }
    inputShape = s.map((d: number | null) => (d === -1 ? null : d));
  }
  let batchSize: number | 'batch' | null = null;
  if (r['batchSize'] !== undefined) {
    const b = r['batchSize'];
    if (!(b === 'batch' || (typeof b === 'number' && Number.isInteger(b) && b >= 1))) {
      throw new ConfigError(`exportOnnx: batchSize must be a positive integer or 'batch', got ${JSON.stringify(b)}`);
    }
    batchSize = b;
  }
  const gn = r['graphName'];
  return {
    format,
    inputShape,
    batchSize,
    inputLayout: oneOf(r['inputLayout'], ['nchw', 'nhwc'] as const, 'inputLayout', 'nchw'),
    qonnxDomain: oneOf(r['qonnxDomain'], QONNX_DOMAINS, 'qonnxDomain', 'onnx.brevitas'),
    qonnxAvgPool: oneOf(r['qonnxAvgPool'], ['quant', 'trunc'] as const, 'qonnxAvgPool', 'quant'),
    inputName: name(r['inputName'], 'inputName', 'input'),
    outputName: name(r['outputName'], 'outputName', 'output'),
    graphName: gn === undefined ? null : name(gn, 'graphName', 'model'),
  };
}
