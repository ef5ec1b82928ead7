/**
 * Thin typed layer over `onnx-proto` (protobufjs 6 static code of onnx.proto v1.10): tensor, attribute and
 * value-info builders, and model encoding. `onnx-proto` is CommonJS; under ESM its exports arrive as the
 * default import.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxNs } from 'onnx-proto';

/** The `onnx` protobuf namespace (message classes and enums). */
export const onnx: typeof OnnxNs = onnxProto.onnx;

/** A node of the graph (plain object accepted by `NodeProto.create`). */
export type NodeProto = OnnxNs.INodeProto;
/** An initializer tensor. */
export type TensorProto = OnnxNs.ITensorProto;
/** A node attribute. */
export type AttributeProto = OnnxNs.IAttributeProto;
/** A typed graph input/output description. */
export type ValueInfoProto = OnnxNs.IValueInfoProto;
/** A whole model. */
export type ModelProto = OnnxNs.IModelProto;

/** ONNX element types used by the exporter (TensorProto.DataType values). */
export const DT = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
} as const;
/** One of the element types in `DT`. */
export type DataType = (typeof DT)[keyof typeof DT];

/** A tensor proto holding `values` (float32 as little-endian raw bytes, integers in int32_data / int64_data). */
export function makeTensor(name: string, dataType: DataType, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  const n = dims.reduce((a, b) => a * b, 1);
  if (values.length !== n) throw new Error(`internal: tensor ${name} has ${values.length} values for dims [${dims.join(',')}]`);
  const t: TensorProto = { name, dataType, dims: [...dims] };
  if (dataType === DT.FLOAT) {
    const f = Float32Array.from(values);
    t.rawData = new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
  } else if (dataType === DT.INT64) {
    t.int64Data = Array.from(values);
  } else {
    t.int32Data = Array.from(values);
  }
  return t;
}

/** Attribute value kinds accepted by `makeAttribute`. */
export type AttrValue = number | string | readonly number[] | { readonly float: number };

/**
 * An attribute: integers and integer lists become INT/INTS, `{float: x}` becomes FLOAT, strings STRING.
 * (A plain number is an INT: ONNX attributes such as `alpha` must be passed as `{float: 0.01}`.)
 */
export function makeAttribute(name: string, v: AttrValue): AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`internal: attribute ${name} = ${v} is not an integer; pass {float: v}`);
    return { name, type: T.INT, i: v };
  }
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.INTS, ints: [...v] };
}

/** Value info of a float tensor; a string dimension is symbolic (e.g. 'batch'). */
export function makeValueInfo(name: string, shape: readonly (number | string)[], elemType: DataType = DT.FLOAT): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

/** Encode a model to protobuf bytes. */
export function encodeModel(model: ModelProto): Uint8Array {
  const m = onnx.ModelProto.create(model);
  return onnx.ModelProto.encode(m).finish();
}

/** Decode protobuf bytes (tests and tools). */
export function decodeModel(bytes: Uint8Array): OnnxNs.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
