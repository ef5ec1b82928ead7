/**
 * parseCircuit: validate a circuit document (types, integer safety, shapes against data lengths, table lengths
 * against ranges, node references, size caps) and decode it. The first problem is a CircuitFormatError naming
 * its JSON path; nothing else is thrown for any JSON input.
 */
import { CircuitFormatError } from '../errors.js';
import {
  CIRCUIT_FORMAT_VERSION, NODE_OPS, type CircuitJson, type InputQuantJson, type OutputJson, type ParsedCircuit, type ParsedNode,
} from './circuit_schema.js';
import { decodeIntTensor, describe } from './int_tensor.js';

/** Most nodes a circuit may have. */
export const MAX_NODES = 4096;
/** Most values one per-sample tensor may have. */
export const MAX_SAMPLE_VALUES = 1 << 22;
/** Largest magnitude an integer value may reach anywhere in the circuit (int32 arithmetic). */
export const MAX_INT_MAGNITUDE = 2 ** 31 - 1;

type Rec = Record<string, unknown>;

function isRecord(x: unknown): x is Rec {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function fail(path: string, msg: string): never {
  throw new CircuitFormatError(path, msg);
}

function obj(v: unknown, path: string): Rec {
  if (!isRecord(v)) fail(path, `must be an object, got ${describe(v)}`);
  return v;
}

function int(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) fail(path, `must be an integer in [${min}, ${max}], got ${describe(v)}`);
  return v;
}

function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') fail(path, `must be true or false, got ${describe(v)}`);
  return v;
}

function positive(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0) || v > 1e30) fail(path, `must be a positive finite number, got ${describe(v)}`);
  return v;
}

function finite(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > 1e30) fail(path, `must be a finite number, got ${describe(v)}`);
  return v;
}

function str<T extends string>(v: unknown, path: string, allowed?: readonly T[]): T {
  if (typeof v !== 'string' || v.length === 0 || v.length > 256) fail(path, `must be a non-empty string, got ${describe(v)}`);
  if (allowed !== undefined && !allowed.includes(v as T)) fail(path, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(v)}`);
  return v as T;
}

function shapeOf(v: unknown, path: string, rankMin = 1, rankMax = 4): number[] {
  if (!Array.isArray(v) || v.length < rankMin || v.length > rankMax) fail(path, `must be an array of ${rankMin} to ${rankMax} positive integers, got ${describe(v)}`);
  let size = 1;
  const out = v.map((d: unknown, i) => {
    const n = int(d, `${path}[${i}]`, 1, MAX_SAMPLE_VALUES);
    size *= n;
    if (size > MAX_SAMPLE_VALUES) fail(path, `describes more than ${MAX_SAMPLE_VALUES} values per sample`);
    return n;
  });
  return out;
}

function pairOf(v: unknown, path: string, min: number): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) fail(path, `must be a pair of integers, got ${describe(v)}`);
  return [int(v[0], `${path}[0]`, min, 4096), int(v[1], `${path}[1]`, min, 4096)];
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function parseRange(v: unknown, path: string): void {
  const r = obj(v, path);
  const lo = int(r['min'], `${path}.min`, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  int(r['max'], `${path}.max`, lo, Number.MAX_SAFE_INTEGER);
  int(r['bits'], `${path}.bits`, 0, 64);
}

function parseInput(v: unknown): InputQuantJson {
  const r = obj(v, '$.input');
  const bitWidth = int(r['bitWidth'], '$.input.bitWidth', 1, 16);
  return {
    scale: positive(r['scale'], '$.input.scale'),
    zeroPoint: int(r['zeroPoint'], '$.input.zeroPoint', -(2 ** 16), 2 ** 16),
    bitWidth,
    signed: bool(r['signed'], '$.input.signed'),
    narrowRange: bool(r['narrowRange'], '$.input.narrowRange'),
  };
}

/** Max |value| of an integer tensor. */
function maxAbs(a: Int32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i] ?? 0);
    if (v > m) m = v;
  }
  return m;
}

interface Known { index: number; shape: number[]; bound: number }

/**
 * Validate and decode a circuit document.
 * @example const c = parseCircuit(JSON.parse(readFileSync('circuit.json', 'utf8')));
 * @throws CircuitFormatError with the JSON path of the first problem; a newer formatVersion is refused.
 */
export function parseCircuit(json: unknown): ParsedCircuit {
  const root = obj(json, '$');
  const version = root['formatVersion'];
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    fail('$.formatVersion', `must be a positive integer (this library writes ${CIRCUIT_FORMAT_VERSION}), got ${describe(version)}`);
  }
  if (version > CIRCUIT_FORMAT_VERSION) {
    fail('$.formatVersion', `is ${version}, newer than the newest version this library reads (${CIRCUIT_FORMAT_VERSION}); upgrade tfjs-qat to read it`);
  }
  if (root['producer'] !== undefined) str(root['producer'], '$.producer');
  const inputShape = shapeOf(root['inputShape'], '$.inputShape');
  const input = parseInput(root['input']);
  const inLo = input.signed ? -(2 ** (input.bitWidth - 1)) : 0;
  const inHi = input.signed ? 2 ** (input.bitWidth - 1) - 1 : 2 ** input.bitWidth - 1;
  const known = new Map<string, Known>([['input', { index: -1, shape: inputShape, bound: Math.max(Math.abs(inLo), Math.abs(inHi)) }]]);
  const rawNodes = root['nodes'];
  if (!Array.isArray(rawNodes) || rawNodes.length === 0 || rawNodes.length > MAX_NODES) {
    fail('$.nodes', `must be a non-empty array of at most ${MAX_NODES} nodes, got ${describe(rawNodes)}`);
  }
  const nodes: ParsedNode[] = [];
  const inputIndex: number[][] = [];
  rawNodes.forEach((raw: unknown, i) => {
    const p = `$.nodes[${i}]`;
    const n = obj(raw, p);
    const op = str(n['op'], `${p}.op`, NODE_OPS);
    const name = str(n['name'], `${p}.name`);
    if (known.has(name)) fail(`${p}.name`, `'${name}' is already used by the input or an earlier node; names must be unique`);
    const declared = shapeOf(n['shape'], `${p}.shape`);
    parseRange(n['range'], `${p}.range`);
    parseRange(n['worstCase'], `${p}.worstCase`);
    const ref = (v: unknown, path: string): Known => {
      const s = str(v, path);
      const k = known.get(s);
      if (k === undefined) fail(path, `refers to '${s}', which is not the circuit input or an earlier node`);
      return k;
    };
    const base = { name, shape: declared, range: n['range'] as ParsedNode['range'], worstCase: n['worstCase'] as ParsedNode['worstCase'] };
    let parsed: ParsedNode;
    let shape: number[];
    let bound: number;
    let refs: number[];
    switch (op) {
      case 'gemm': {
        const src = ref(n['input'], `${p}.input`);
        if (src.shape.length !== 1) fail(`${p}.input`, `gemm needs a rank-1 input (flatten first), got shape [${src.shape.join(', ')}]`);
        const inF = src.shape[0] ?? 0;
        const w = decodeIntTensor(n['weights'], `${p}.weights`);
        if (w.shape.length !== 2 || w.shape[0] !== inF) fail(`${p}.weights.shape`, `must be [${inF}, outFeatures], got [${w.shape.join(', ')}]`);
        const outF = w.shape[1] ?? 0;
        const bias = n['bias'] === null || n['bias'] === undefined ? null : decodeIntTensor(n['bias'], `${p}.bias`, [outF]).values;
        shape = [outF];
        bound = 0;
        for (let o = 0; o < outF; o++) {
          let s = Math.abs(bias?.[o] ?? 0);
          for (let k = 0; k < inF; k++) s += Math.abs(w.values[k * outF + o] ?? 0) * src.bound;
          if (s > bound) bound = s;
        }
        parsed = { ...base, op, input: n['input'] as string, weights: w.values, bias, inFeatures: inF, outFeatures: outF };
        refs = [src.index];
        break;
      }
      case 'conv2d': {
        const src = ref(n['input'], `${p}.input`);
        if (src.shape.length !== 3) fail(`${p}.input`, `conv2d needs an NHWC input of rank 3 per sample, got shape [${src.shape.join(', ')}]`);
        const [h, wd, cin] = src.shape as [number, number, number];
        const w = decodeIntTensor(n['weights'], `${p}.weights`);
        if (w.shape.length !== 4 || w.shape[2] !== cin) fail(`${p}.weights.shape`, `must be [kh, kw, ${cin}, cout], got [${w.shape.join(', ')}]`);
        const [kh, kw, , cout] = w.shape as [number, number, number, number];
        const strides = pairOf(n['strides'], `${p}.strides`, 1);
        const pad = n['padding'];
        if (!Array.isArray(pad) || pad.length !== 4) fail(`${p}.padding`, `must be [top, bottom, left, right], got ${describe(pad)}`);
        const padding = pad.map((v: unknown, j) => int(v, `${p}.padding[${j}]`, 0, 4096)) as [number, number, number, number];
        const oh = Math.floor((h + padding[0] + padding[1] - kh) / strides[0]) + 1;
        const ow = Math.floor((wd + padding[2] + padding[3] - kw) / strides[1]) + 1;
        if (oh < 1 || ow < 1) fail(`${p}.weights.shape`, `kernel ${kh}x${kw} is larger than the padded input ${h}x${wd}`);
        const bias = n['bias'] === null || n['bias'] === undefined ? null : decodeIntTensor(n['bias'], `${p}.bias`, [cout]).values;
        shape = [oh, ow, cout];
        bound = 0;
        for (let o = 0; o < cout; o++) {
          let s = Math.abs(bias?.[o] ?? 0);
          for (let k = o; k < w.values.length; k += cout) s += Math.abs(w.values[k] ?? 0) * src.bound;
          if (s > bound) bound = s;
        }
        parsed = { ...base, op, input: n['input'] as string, weights: w.values, bias, strides, padding, kernel: [kh, kw, cin, cout], inShape: [h, wd, cin] };
        refs = [src.index];
        break;
      }
      case 'sumPool': {
        const src = ref(n['input'], `${p}.input`);
        if (src.shape.length !== 3) fail(`${p}.input`, `sumPool needs an NHWC input of rank 3 per sample, got shape [${src.shape.join(', ')}]`);
        const [h, wd, c] = src.shape as [number, number, number];
        const poolSize = pairOf(n['poolSize'], `${p}.poolSize`, 1);
        const strides = pairOf(n['strides'], `${p}.strides`, 1);
        if (poolSize[0] > h || poolSize[1] > wd) fail(`${p}.poolSize`, `[${poolSize.join(', ')}] is larger than the input ${h}x${wd}`);
        shape = [Math.floor((h - poolSize[0]) / strides[0]) + 1, Math.floor((wd - poolSize[1]) / strides[1]) + 1, c];
        bound = src.bound * poolSize[0] * poolSize[1];
        parsed = { ...base, op, input: n['input'] as string, poolSize, strides, inShape: [h, wd, c] };
        refs = [src.index];
        break;
      }
      case 'add': {
        const ins = n['inputs'];
        if (!Array.isArray(ins) || ins.length !== 2) fail(`${p}.inputs`, `must be a pair of node names, got ${describe(ins)}`);
        const a = ref(ins[0], `${p}.inputs[0]`);
        const b = ref(ins[1], `${p}.inputs[1]`);
        if (!sameShape(a.shape, b.shape)) fail(`${p}.inputs`, `shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] differ`);
        shape = [...a.shape];
        bound = a.bound + b.bound;
        parsed = { ...base, op, inputs: [ins[0] as string, ins[1] as string] };
        refs = [a.index, b.index];
        break;
      }
      case 'reshape': {
        const src = ref(n['input'], `${p}.input`);
        if (sizeOf(src.shape) !== sizeOf(declared)) fail(`${p}.shape`, `has ${sizeOf(declared)} values but the input has ${sizeOf(src.shape)}`);
        shape = declared;
        bound = src.bound;
        parsed = { ...base, op, input: n['input'] as string };
        refs = [src.index];
        break;
      }
      case 'tlu': {
        const src = ref(n['input'], `${p}.input`);
        const shift = int(n['shift'], `${p}.shift`, 0, 30);
        const rounding = str(n['rounding'], `${p}.rounding`, ['halfEven', 'halfUp'] as const);
        const inMin = int(n['inMin'], `${p}.inMin`, -MAX_INT_MAGNITUDE, MAX_INT_MAGNITUDE);
        const inMax = int(n['inMax'], `${p}.inMax`, inMin, MAX_INT_MAGNITUDE);
        const t = decodeIntTensor(n['tables'], `${p}.tables`);
        if (t.shape.length !== 2 || t.shape[1] !== inMax - inMin + 1) {
          fail(`${p}.tables.shape`, `must be [nTables, ${inMax - inMin + 1}] (one entry per input in [${inMin}, ${inMax}]), got [${t.shape.join(', ')}]`);
        }
        shape = [...src.shape];
        bound = maxAbs(t.values);
        parsed = { ...base, op, input: n['input'] as string, shift, rounding, inMin, inMax, tables: t.values, nTables: t.shape[0] ?? 1 };
        refs = [src.index];
        break;
      }
    }
    if (!sameShape(shape, declared)) fail(`${p}.shape`, `must be [${shape.join(', ')}] (computed from the input and the parameters), got [${declared.join(', ')}]`);
    if (bound > MAX_INT_MAGNITUDE) {
      fail(p, `values may reach ${bound} in the worst case, beyond 32-bit integers; the weights or tables are out of range`);
    }
    known.set(name, { index: i, shape, bound });
    nodes.push(parsed);
    inputIndex.push(refs);
  });
  const output = parseOutput(root['output'], known);
  return {
    parsed: true, formatVersion: version, inputShape, inputSize: sizeOf(inputShape), input, nodes, inputIndex, output,
    source: json as CircuitJson,
  };
}

function parseOutput(v: unknown, known: Map<string, Known>): ParsedCircuit['output'] {
  const r = obj(v, '$.output');
  const name = str(r['input'], '$.output.input');
  const k = known.get(name);
  if (k === undefined || k.index < 0) fail('$.output.input', `refers to '${name}', which is not a node`);
  const size = sizeOf(k.shape);
  const sc = r['scale'];
  if (!Array.isArray(sc) || sc.length < 1 || sc.length > size || size % sc.length !== 0) {
    fail('$.output.scale', `must be an array of 1 or one-per-channel positive numbers dividing the output size ${size}, got ${describe(sc)}`);
  }
  const scale = sc.map((s: unknown, i) => positive(s, `$.output.scale[${i}]`));
  const off = r['offset'];
  let offset: number[] | null = null;
  if (off !== null && off !== undefined) {
    if (!Array.isArray(off) || off.length !== scale.length) fail('$.output.offset', `must be null or an array of ${scale.length} numbers, got ${describe(off)}`);
    offset = off.map((s: unknown, i) => finite(s, `$.output.offset[${i}]`));
  }
  const post = str(r['post'], '$.output.post', ['none', 'relu', 'sigmoid', 'tanh', 'softmax'] as const);
  const task = str(r['task'], '$.output.task', ['classification', 'regression'] as const);
  const out: OutputJson = { input: name, scale, offset, post, task };
  return { ...out, index: k.index, size };
}
