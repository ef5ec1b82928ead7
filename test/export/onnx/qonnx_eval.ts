// Test helpers: an independent JS evaluator of the QONNX `Quant` op, reading of decoded ONNX graphs, and a
// lowering of QONNX `Quant` / `Trunc` nodes to standard ONNX (Div, Round|Floor, Clip, Mul) so onnxruntime can run
// a QONNX export end to end.
import { onnx } from '../../../src/export/onnx/proto.js';

/** Decoded attribute (plain object, defaults filled). */
export interface GAttr { name: string; type: number; i: number; f: number; s: Uint8Array; ints: number[] }
/** Decoded node. */
export interface GNode { opType: string; domain: string; name: string; input: string[]; output: string[]; attribute: GAttr[] }
/** Decoded tensor. */
export interface GTensor { name: string; dataType: number; dims: number[]; rawData: Uint8Array; floatData: number[]; int32Data: number[]; int64Data: number[] }
/** Decoded value info. */
export interface GValueInfo { name: string; type: { tensorType: { elemType: number; shape: { dim: { dimValue?: number; dimParam?: string }[] } } } }
/** Decoded model. */
export interface GModel {
  irVersion: number;
  opsetImport: { domain: string; version: number }[];
  docString: string;
  producerName: string;
  producerVersion: string;
  metadataProps: { key: string; value: string }[];
  graph: { name: string; node: GNode[]; initializer: GTensor[]; input: GValueInfo[]; output: GValueInfo[] };
}
type Model = GModel;
type Tensor = GTensor;

/** Decode model bytes into plain objects with every default filled. */
export function decodePlain(bytes: Uint8Array): GModel {
  return onnx.ModelProto.toObject(onnx.ModelProto.decode(bytes), { defaults: true, arrays: true, longs: Number }) as unknown as GModel;
}

const f32 = Math.fround;

/** numpy.round / torch.round: ties to even. */
export function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Values of an initializer (float raw/float_data or int32/int64 data). */
export function tensorValues(t: Tensor): number[] {
  if (t.rawData.length > 0) {
    const copy = new Uint8Array(t.rawData);
    return Array.from(new Float32Array(copy.buffer, 0, copy.length / 4));
  }
  if (t.floatData.length > 0) return t.floatData.slice();
  if (t.int32Data.length > 0) return t.int32Data.slice();
  return t.int64Data.map((v) => Number(v));
}

/** Initializers by name. */
export function initializers(m: Model): Map<string, Tensor> {
  return new Map(m.graph.initializer.map((t) => [t.name, t]));
}

/** Attribute value of a node (int, float or string). */
export function attr(node: GNode, name: string): number | string | undefined {
  const a = node.attribute.find((x) => x.name === name);
  if (a === undefined) return undefined;
  if (a.type === onnx.AttributeProto.AttributeType.STRING) return new TextDecoder().decode(a.s);
  if (a.type === onnx.AttributeProto.AttributeType.FLOAT) return a.f;
  return Number(a.i);
}

/** Parameters of one Quant node. */
export interface QuantParams {
  scale: number[];
  zeroPoint: number;
  bitWidth: number;
  signed: boolean;
  narrow: boolean;
  rounding: string;
}

/** Integer bounds of a Quant (QONNX `min_int` / `max_int`). */
export function quantBounds(p: Pick<QuantParams, 'bitWidth' | 'signed' | 'narrow'>): [number, number] {
  const b = p.bitWidth;
  if (p.signed) return [p.narrow ? -(2 ** (b - 1)) + 1 : -(2 ** (b - 1)), 2 ** (b - 1) - 1];
  return [0, p.narrow ? 2 ** b - 2 : 2 ** b - 1];
}

/** QONNX Quant semantics: q = clamp(round(x/scale + zp)), out = (q - zp)·scale; per-channel scale along axis 0. */
export function evalQuant(x: ArrayLike<number>, p: QuantParams, ints = false): Float32Array {
  const [lo, hi] = quantBounds(p);
  const out = new Float32Array(x.length);
  const inner = p.scale.length === 1 ? x.length : x.length / p.scale.length;
  const round = p.rounding === 'FLOOR' ? Math.floor : p.rounding === 'CEIL' ? Math.ceil : rint;
  for (let i = 0; i < x.length; i++) {
    const s = f32(p.scale[p.scale.length === 1 ? 0 : Math.floor(i / inner)] ?? NaN);
    const q = Math.min(hi, Math.max(lo, round(f32(f32(f32(x[i] ?? NaN) / s) + p.zeroPoint))));
    out[i] = ints ? q + 0 : f32((q - p.zeroPoint) * s) + 0;
  }
  return out;
}

/** The parameters of a Quant node, read from its initializer inputs. */
export function quantParams(m: Model, node: GNode): QuantParams {
  const inits = initializers(m);
  const val = (name: string | undefined): number[] => {
    const t = name === undefined ? undefined : inits.get(name);
    if (t === undefined) throw new Error(`Quant input ${String(name)} is not an initializer`);
    return tensorValues(t);
  };
  return {
    scale: val(node.input[1]),
    zeroPoint: val(node.input[2])[0] ?? NaN,
    bitWidth: val(node.input[3])[0] ?? NaN,
    signed: attr(node, 'signed') === 1,
    narrow: attr(node, 'narrow') === 1,
    rounding: String(attr(node, 'rounding_mode') ?? 'ROUND'),
  };
}

/** Replace every Quant / Trunc node by standard ops; returns runnable model bytes. */
export function lowerQonnx(bytes: Uint8Array, domain: string): Uint8Array {
  const m = decodePlain(bytes);
  const raw = onnx.ModelProto.decode(bytes);
  const rg = raw.graph;
  if (rg === null || rg === undefined || !Array.isArray(rg.node) || !Array.isArray(rg.initializer)) throw new Error('no graph');
  const rgInit = rg.initializer;
  const rgNodes = rg.node;
  const inits = initializers(m);
  let k = 0;
  const fconst = (v: number): string => {
    const name = `lower_c${k++}`;
    rgInit.push(onnx.TensorProto.create({ name, dataType: 1, dims: [], floatData: [v] }));
    return name;
  };
  const nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  const mk = (op: string, input: string[], output: string): void => {
    nodes.push(onnx.NodeProto.create({ opType: op, input, output: [output], name: `lower_n${k++}` }));
  };
  m.graph.node.forEach((n, idx) => {
    if (n.domain !== domain) {
      const orig = rgNodes[idx];
      if (orig === undefined) throw new Error('node mismatch');
      nodes.push(orig as InstanceType<typeof onnx.NodeProto>);
      return;
    }
    const out = n.output[0] ?? '';
    const t = `${out}__l${k++}`;
    if (n.opType === 'Quant') {
      const p = quantParams(m, n);
      const [lo, hi] = quantBounds(p);
      mk('Div', [n.input[0] ?? '', n.input[1] ?? ''], `${t}_d`);
      mk(p.rounding === 'FLOOR' ? 'Floor' : 'Round', [`${t}_d`], `${t}_r`);
      mk('Clip', [`${t}_r`, fconst(lo), fconst(hi)], `${t}_c`);
      mk('Mul', [`${t}_c`, n.input[1] ?? ''], out);
    } else if (n.opType === 'Trunc') {
      const v = (i: number): number => {
        const tt = inits.get(n.input[i] ?? '');
        if (tt === undefined) throw new Error(`Trunc input ${i} is not an initializer`);
        return tensorValues(tt)[0] ?? NaN;
      };
      const ts = 2 ** (v(3) - v(4));
      mk('Div', [n.input[0] ?? '', n.input[1] ?? ''], `${t}_d`);
      mk('Round', [`${t}_d`], `${t}_r`);
      mk('Div', [`${t}_r`, fconst(ts)], `${t}_s`);
      mk(attr(n, 'rounding_mode') === 'FLOOR' ? 'Floor' : 'Round', [`${t}_s`], `${t}_q`);
      mk('Mul', [`${t}_q`, n.input[1] ?? ''], out);
    } else {
      throw new Error(`unknown custom op ${n.opType}`);
    }
  });
  rg.node = nodes;
  raw.opsetImport = raw.opsetImport.filter((o) => (o.domain ?? '') === '');
  return onnx.ModelProto.encode(raw).finish();
}
