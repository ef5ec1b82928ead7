/**
 * GraphBuilder: accumulates nodes and initializers in topological order (every node is appended after the
 * producers of its inputs), with unique tensor names and deduplicated scalar constants.
 */
import { DT, makeAttribute, makeTensor, type AttrValue, type DataType, type NodeProto, type TensorProto } from './proto.js';

/** Builds one ONNX graph. */
export class GraphBuilder {
  /** Nodes in the order they were added (a topological order). */
  readonly nodes: NodeProto[] = [];
  /** Initializers (constants). */
  readonly initializers: TensorProto[] = [];
  /** Custom domains used by nodes. */
  readonly customDomains = new Set<string>();
  private readonly names = new Set<string>();
  private readonly constCache = new Map<string, string>();

  /** A fresh tensor name based on `base` (sanitized). */
  uniqueName(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./:-]/g, '_');
    let name = clean;
    for (let i = 1; this.names.has(name); i++) name = `${clean}_${i}`;
    this.names.add(name);
    return name;
  }

  /** Reserve an exact name (graph inputs). */
  reserve(name: string): string {
    if (this.names.has(name)) throw new Error(`internal: tensor name ${name} is used twice`);
    this.names.add(name);
    return name;
  }

  /** Add an initializer; returns its name. */
  initializer(base: string, dataType: DataType, dims: readonly number[], values: ArrayLike<number>): string {
    const name = this.uniqueName(base);
    this.initializers.push(makeTensor(name, dataType, dims, values));
    return name;
  }

  /** A scalar (rank 0) constant, shared between nodes with the same type and value. */
  scalar(base: string, dataType: DataType, value: number): string {
    const key = `${dataType}|${Object.is(value, -0) ? 0 : value}`;
    const hit = this.constCache.get(key);
    if (hit !== undefined) return hit;
    const name = this.initializer(base, dataType, [], [value]);
    this.constCache.set(key, name);
    return name;
  }

  /** Float scalar constant. */
  floatScalar(base: string, value: number): string {
    return this.scalar(base, DT.FLOAT, Math.fround(value));
  }

  /** An int64 1-D constant (shapes, perms). */
  int64s(base: string, values: readonly number[]): string {
    return this.initializer(base, DT.INT64, [values.length], values);
  }

  /**
   * Append a node; returns its (single) output name.
   * @param outBase base of the output name
   */
  node(opType: string, inputs: readonly string[], outBase: string, attrs: Record<string, AttrValue> = {}, domain = ''): string {
    return this.nodeTo(opType, inputs, this.uniqueName(outBase), attrs, domain);
  }

  /** Append a node writing to an exact, already reserved output name. */
  nodeTo(opType: string, inputs: readonly string[], out: string, attrs: Record<string, AttrValue> = {}, domain = ''): string {
    const name = this.uniqueName(`${opType}_${this.nodes.length}`);
    const node: NodeProto = {
      opType,
      name,
      input: [...inputs],
      output: [out],
      attribute: Object.entries(attrs).map(([k, v]) => makeAttribute(k, v)),
    };
    if (domain !== '') {
      node.domain = domain;
      this.customDomains.add(domain);
    }
    this.nodes.push(node);
    return out;
  }
}
