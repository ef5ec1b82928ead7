/**
 * Float element-wise functions between quantizers: Univariate layers and tf.layers.activation, written with
 * opset-14 operators (GELU, which opset 14 lacks, as 0.5·x·(1 + Erf(x/√2)), tfjs' formula).
 */
import type { GraphBuilder } from './graph.js';

/** Writes `fn(x)`; returns the output name, or null when `fn` has no ONNX form. */
export type FloatOpWriter = (g: GraphBuilder, x: string, base: string) => string;

function unary(op: string, attrs: Record<string, { float: number }> = {}): FloatOpWriter {
  return (g, x, base) => g.node(op, [x], `${base}_${op.toLowerCase()}`, attrs);
}

const gelu: FloatOpWriter = (g, x, base) => {
  const half = g.node('Mul', [x, g.floatScalar('half', 0.5)], `${base}_half`);
  const e = g.node('Erf', [g.node('Div', [x, g.floatScalar('sqrt2', Math.SQRT2)], `${base}_xs`)], `${base}_erf`);
  return g.node('Mul', [half, g.node('Add', [e, g.floatScalar('one', 1)], `${base}_1p`)], `${base}_gelu`);
};

const swish: FloatOpWriter = (g, x, base) => g.node('Mul', [x, g.node('Sigmoid', [x], `${base}_sig`)], `${base}_swish`);

const relu6: FloatOpWriter = (g, x, base) => g.node('Clip', [x, g.floatScalar('zero_f', 0), g.floatScalar('six', 6)], `${base}_relu6`);

const identity: FloatOpWriter = (_g, x) => x;

/** Univariate function names (see src/layers/univariate.ts) with an ONNX form. */
export const UNIVARIATE_OPS: Readonly<Record<string, FloatOpWriter>> = {
  relu: unary('Relu'),
  sigmoid: unary('Sigmoid'),
  tanh: unary('Tanh'),
  gelu,
  leakyRelu: unary('LeakyRelu', { alpha: { float: 0.01 } }),
  identity,
};

/** tf.layers.activation names with an ONNX form (softmax is handled by the caller: it needs the last axis). */
export const ACTIVATION_OPS: Readonly<Record<string, FloatOpWriter>> = {
  linear: identity,
  relu: unary('Relu'),
  relu6,
  sigmoid: unary('Sigmoid'),
  tanh: unary('Tanh'),
  elu: unary('Elu', { alpha: { float: 1 } }),
  selu: unary('Selu'),
  softplus: unary('Softplus'),
  softsign: unary('Softsign'),
  hardSigmoid: unary('HardSigmoid', { alpha: { float: 0.2 }, beta: { float: 0.5 } }),
  swish,
  gelu,
};
