/**
 * One tfjs layer -> ONNX nodes. Tensors keep the tfjs shape (batch first) plus a layout tag: rank-4 tensors are
 * moved to NCHW (explicit Transpose) before Conv / AveragePool / BatchNormalization and back to NHWC before
 * Flatten / Reshape / Softmax, so values and flatten order equal the tfjs model's.
 */
import * as tf from '@tensorflow/tfjs';
import { UnsupportedLayerError } from '../../errors.js';
import { quantizeScalar } from '../../quant/rounding.js';
import { QuantActivation } from '../../layers/quant_activation.js';
import { QuantWeightLayer } from '../../layers/quant_weight_layer.js';
import { QuantLinear } from '../../layers/quant_linear.js';
import { QuantConv2D } from '../../layers/quant_conv2d.js';
import { QuantAvgPool2D } from '../../layers/quant_avg_pool2d.js';
import { Univariate } from '../../layers/univariate.js';
import { upstreamProvider } from '../../layers/quant_meta.js';
import { DT } from './proto.js';
import type { GraphBuilder } from './graph.js';
import type { QuantEmitter } from './quant_emit.js';
import type { LayerBits } from './metadata.js';
import type { ChainStep, TfShape } from './walk.js';
import { ACTIVATION_OPS, UNIVARIATE_OPS } from './float_ops.js';

/** A tensor of the graph being built: its name, tfjs shape (batch first) and actual layout. */
export interface Val {
  readonly name: string;
  readonly shape: TfShape;
  readonly layout: 'tf' | 'nchw';
}

/** What layer emitters share. */
export interface EmitCtx {
  readonly g: GraphBuilder;
  readonly em: QuantEmitter;
  readonly bits: LayerBits[];
}

const f32 = Math.fround;

function unsupported(layer: tf.layers.Layer, reason: string): UnsupportedLayerError {
  return new UnsupportedLayerError(`layer '${layer.name}' (${layer.getClassName()}) cannot be exported to ONNX: ${reason}`);
}

/** The ONNX shape of a value (NCHW when its layout is 'nchw'). */
export function onnxShape(v: Val, batch: number | string): (number | string)[] {
  const s = v.shape.map((d, i) => (i === 0 ? batch : (d ?? -1)));
  if (v.layout === 'nchw') return [s[0] ?? batch, s[3] ?? -1, s[1] ?? -1, s[2] ?? -1];
  return s;
}

function toNchw(ctx: EmitCtx, v: Val, base: string): Val {
  if (v.layout === 'nchw') return v;
  return { ...v, name: ctx.g.node('Transpose', [v.name], `${base}_nchw`, { perm: [0, 3, 1, 2] }), layout: 'nchw' };
}

function toTf(ctx: EmitCtx, v: Val, base: string): Val {
  if (v.layout === 'tf') return v;
  return { ...v, name: ctx.g.node('Transpose', [v.name], `${base}_nhwc`, { perm: [0, 2, 3, 1] }), layout: 'tf' };
}

function readTensor(t: tf.Tensor): Float32Array {
  const d = Float32Array.from(t.dataSync());
  t.dispose();
  return d;
}

/** The float kernel the quantizer sees (kernel x pruning mask), tfjs layout. */
function maskedKernel(layer: QuantWeightLayer): Float32Array {
  const mask = layer.getWeightMask();
  const kernel = layer.getWeights()[0];
  if (kernel === undefined) throw unsupported(layer, 'the layer has no kernel (not built)');
  return readTensor(tf.tidy(() => (mask === null ? kernel.clone() : tf.mul(kernel, mask))));
}

/** Permute a tfjs-layout kernel into ONNX layout ([out,in] for Gemm, OIHW for Conv). */
function toOnnxLayout<T extends Int32Array | Float32Array>(src: T, shape: readonly number[], make: (n: number) => T): { data: T; dims: number[] } {
  const out = make(src.length);
  if (shape.length === 2) {
    const [nin = 0, nout = 0] = shape;
    for (let i = 0; i < nin; i++) for (let o = 0; o < nout; o++) out[o * nin + i] = src[i * nout + o] ?? 0;
    return { data: out, dims: [nout, nin] };
  }
  const [kh = 0, kw = 0, cin = 0, cout = 0] = shape;
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let c = 0; c < cin; c++) {
        for (let o = 0; o < cout; o++) out[((o * cin + c) * kh + y) * kw + x] = src[((y * kw + x) * cin + c) * cout + o] ?? 0;
      }
    }
  }
  return { data: out, dims: [cout, cin, kh, kw] };
}

function emitActivationQuant(ctx: EmitCtx, layer: QuantActivation, v: Val): Val {
  const meta = layer.outputQuantMeta();
  const scale = typeof meta.scale === 'number' ? meta.scale : (meta.scale[0] ?? NaN);
  if (!(scale > 0 && Number.isFinite(scale))) throw unsupported(layer, `its eval scale is ${scale}; train or set the quantizer state first`);
  const x = layer.getClassName() === 'QuantReLU' ? ctx.g.node('Relu', [v.name], `${layer.name}_relu`) : v.name;
  const out = ctx.em.act(ctx.g, x, { scale, bitWidth: meta.bitWidth, signed: meta.signed, narrowRange: meta.narrowRange }, layer.name);
  ctx.bits.push({ layer: layer.name, kind: layer.getClassName(), outputBitWidth: meta.bitWidth });
  return { ...v, name: out };
}

/** Weight (and bias) inputs of Gemm/Conv, plus the bit-width record. */
function emitWeights(ctx: EmitCtx, layer: QuantWeightLayer): { w: string; b: string | null; floatBias?: boolean } {
  const iw = layer.getIntWeights();
  const ints = toOnnxLayout(iw.values, iw.shape, (n) => new Int32Array(n));
  const floats = toOnnxLayout(maskedKernel(layer), iw.shape, (n) => new Float32Array(n));
  const cfg = layer.weightQuantConfig;
  const w = ctx.em.weight(ctx.g, { base: `${layer.name}_weight`, ints: ints.data, floats: floats.data, dims: ints.dims, scale: iw.scale, bitWidth: cfg.bitWidth, narrowRange: cfg.narrowRange });
  const provider = upstreamProvider(layer);
  ctx.bits.push({
    layer: layer.name,
    kind: layer.getClassName(),
    weightBitWidth: cfg.bitWidth,
    ...(provider === null ? {} : { accumulatorBitWidth: layer.worstCaseAccumulatorBitWidth(provider.outputGrid().bitWidth) }),
  });
  const bias = layer.getFloatBias();
  if (bias === null) return { w, b: null };
  if (layer.biasQuantMode === 'none') {
    // A float bias of rank 2 ([1, C]; Conv adds it with a separate Add): onnxruntime's WeightBiasQuantization pass
    // rewrites a rank-1 float bias of a Gemm/Conv fed by DequantizeLinear into int32 on the input x weight grid,
    // which changes the model's numbers.
    return { w, b: ctx.g.initializer(`${layer.name}_bias`, DT.FLOAT, [1, bias.length], bias), floatBias: true };
  }
  if (provider === null) throw unsupported(layer, `biasQuant 'Int32Bias' needs a quantized input (bias scale = input scale x weight scale); put a QuantIdentity right before it`);
  const m = provider.outputQuantMeta();
  const sIn = typeof m.scale === 'number' ? m.scale : (m.scale[0] ?? NaN);
  const scale = Float32Array.from(iw.scale, (s) => f32(sIn * s));
  const bInts = Int32Array.from(bias, (b, i) => quantizeScalar(b, { scale: scale[scale.length === 1 ? 0 : i] ?? NaN, bitWidth: 32, signed: true, narrowRange: false }));
  return { w, b: ctx.em.int32Bias(ctx.g, { base: `${layer.name}_bias`, ints: bInts, floats: bias, scale }) };
}

function samePads(n: number, k: number, s: number): [number, number] {
  const total = Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
  const lo = Math.floor(total / 2);
  return [lo, total - lo];
}

function emitConv(ctx: EmitCtx, layer: QuantConv2D, v0: Val): Val {
  const v = toNchw(ctx, v0, layer.name);
  const { w, b, floatBias } = emitWeights(ctx, layer);
  const [kh, kw] = layer.kernelSize;
  const [sh, sw] = layer.strides;
  let pads = [0, 0, 0, 0];
  if (typeof layer.padding === 'number') pads = [layer.padding, layer.padding, layer.padding, layer.padding];
  else if (layer.padding === 'same') {
    const h = v.shape[1];
    const wd = v.shape[2];
    if (typeof h !== 'number' || typeof wd !== 'number') throw unsupported(layer, `'same' padding needs known input height and width; pass inputShape`);
    const [t, bt] = samePads(h, kh, sh);
    const [l, r] = samePads(wd, kw, sw);
    pads = [t, l, bt, r];
  }
  const inputs = b === null || floatBias === true ? [v.name, w] : [v.name, w, b];
  let out = ctx.g.node('Conv', inputs, `${layer.name}_conv`, { kernel_shape: [kh, kw], strides: [sh, sw], pads, dilations: [1, 1], group: 1 });
  if (b !== null && floatBias === true) {
    const c = layer.filters;
    const b4 = ctx.g.node('Reshape', [b, ctx.g.int64s(`${layer.name}_bias_shape`, [1, c, 1, 1])], `${layer.name}_bias_nchw`);
    out = ctx.g.node('Add', [out, b4], `${layer.name}_add_bias`);
  }
  return { name: out, shape: v.shape, layout: 'nchw' };
}

function emitLinear(ctx: EmitCtx, layer: QuantLinear, v: Val): Val {
  if (v.shape.length !== 2) throw unsupported(layer, `its input has rank ${v.shape.length}; add tf.layers.flatten() before it`);
  const { w, b } = emitWeights(ctx, layer);
  const inputs = b === null ? [v.name, w] : [v.name, w, b];
  return { ...v, name: ctx.g.node('Gemm', inputs, `${layer.name}_gemm`, { transB: 1 }) };
}

function emitAvgPool(ctx: EmitCtx, layer: QuantAvgPool2D, v0: Val): Val {
  const provider = upstreamProvider(layer);
  if (provider === null) throw unsupported(layer, 'its input is not quantized (Brevitas TruncAvgPool2d needs a QuantTensor); put a QuantIdentity right before it');
  const v = toNchw(ctx, v0, layer.name);
  const inMeta = provider.outputQuantMeta();
  const sIn = typeof inMeta.scale === 'number' ? inMeta.scale : (inMeta.scale[0] ?? NaN);
  const { accBitWidth, ts, k } = layer.truncation(inMeta.bitWidth);
  const sAvg = f32(sIn / k);
  const outScale = f32(sAvg * ts);
  const pooled = ctx.g.node('AveragePool', [v.name], `${layer.name}_avg`, { kernel_shape: [...layer.poolSize], strides: [...layer.strides], pads: [0, 0, 0, 0] });
  const out = ctx.em.truncAvg(ctx.g, pooled, {
    sAvg, ts, outScale, accBitWidth, outBitWidth: layer.bitWidth, inBitWidth: inMeta.bitWidth, k, signed: inMeta.signed, inNarrow: inMeta.narrowRange, mode: layer.truncMode,
  }, layer.name);
  ctx.bits.push({ layer: layer.name, kind: 'QuantAvgPool2D', accumulatorBitWidth: accBitWidth, outputBitWidth: layer.bitWidth });
  return { name: out, shape: v.shape, layout: 'nchw' };
}

const norm = (s: string): string => s.toLowerCase().replace(/_/g, '');

function emitActivationLayer(ctx: EmitCtx, layer: tf.layers.Layer, v: Val): Val {
  const act = layer.getConfig()['activation'];
  const name = typeof act === 'string' ? act : String(act);
  if (norm(name) === 'softmax') {
    const t = toTf(ctx, v, layer.name);
    return { ...t, name: ctx.g.node('Softmax', [t.name], `${layer.name}_softmax`, { axis: -1 }) };
  }
  const key = Object.keys(ACTIVATION_OPS).find((k) => norm(k) === norm(name));
  const fn = key === undefined ? undefined : ACTIVATION_OPS[key];
  if (fn === undefined) throw unsupported(layer, `activation '${name}' has no ONNX form here; supported: ${[...Object.keys(ACTIVATION_OPS), 'softmax'].join(', ')}`);
  return { ...v, name: fn(ctx.g, v.name, layer.name) };
}

function emitBatchNorm(ctx: EmitCtx, layer: tf.layers.Layer, v0: Val): Val {
  const c = layer.getConfig();
  const rank = v0.shape.length;
  const axis = typeof c['axis'] === 'number' ? c['axis'] : -1;
  if (!(axis === -1 || axis === rank - 1) || !(rank === 2 || rank === 4)) {
    throw unsupported(layer, `only channel-last batch normalization (axis -1) of rank-2 or rank-4 tensors is supported, got axis ${axis} on rank ${rank}`);
  }
  const v = rank === 4 ? toNchw(ctx, v0, layer.name) : v0;
  const ws = layer.getWeights().map((t) => Float32Array.from(t.dataSync()));
  let i = 0;
  const ch = v.shape[rank - 1] ?? 0;
  const gamma = c['scale'] === false ? new Float32Array(ch).fill(1) : ws[i++];
  const beta = c['center'] === false ? new Float32Array(ch) : ws[i++];
  const mean = ws[i++];
  const variance = ws[i++];
  if (gamma === undefined || beta === undefined || mean === undefined || variance === undefined) throw unsupported(layer, 'its weights are missing (not built)');
  const g = ctx.g;
  const inputs = [v.name, g.initializer(`${layer.name}_gamma`, DT.FLOAT, [ch], gamma), g.initializer(`${layer.name}_beta`, DT.FLOAT, [ch], beta),
    g.initializer(`${layer.name}_mean`, DT.FLOAT, [ch], mean), g.initializer(`${layer.name}_var`, DT.FLOAT, [ch], variance)];
  const eps = typeof c['epsilon'] === 'number' ? c['epsilon'] : 1e-3;
  return { ...v, name: g.node('BatchNormalization', inputs, `${layer.name}_bn`, { epsilon: { float: eps } }) };
}

const SKIPPED = new Set(['Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout']);

const FLOAT_FIX: Record<string, string> = {
  Dense: 'its weights are float; use QuantLinear (quantLinear({units, weightBitWidth}))',
  Conv2D: 'its weights are float; use QuantConv2D (quantConv2D({filters, kernelSize, weightBitWidth}))',
  AveragePooling2D: 'a float average pool has no integer form; use QuantAvgPool2D',
  MaxPooling2D: 'max pooling is not supported by the mixed-integer exporters; use QuantAvgPool2D',
  GlobalAveragePooling2D: 'use QuantAvgPool2D over the whole map',
};

/** Emit one layer; returns the value it produces. @throws UnsupportedLayerError naming the layer and the reason. */
export function emitLayer(ctx: EmitCtx, step: ChainStep, v: Val): Val {
  const { layer, outShape } = step;
  const cls = layer.getClassName();
  const withShape = (r: Val): Val => ({ ...r, shape: outShape });
  if (layer instanceof QuantActivation) return withShape(emitActivationQuant(ctx, layer, v));
  if (layer instanceof QuantLinear) return withShape(emitLinear(ctx, layer, v));
  if (layer instanceof QuantConv2D) return withShape(emitConv(ctx, layer, v));
  if (layer instanceof QuantAvgPool2D) return withShape(emitAvgPool(ctx, layer, v));
  if (layer instanceof Univariate) {
    const fn = UNIVARIATE_OPS[layer.fnName];
    if (fn === undefined) throw unsupported(layer, `univariate function '${layer.fnName}' is a custom JS function with no ONNX form; supported: ${Object.keys(UNIVARIATE_OPS).join(', ')}`);
    return withShape({ ...v, name: fn(ctx.g, v.name, layer.name) });
  }
  if (SKIPPED.has(cls)) return withShape(v);
  switch (cls) {
    case 'Flatten': {
      const t = toTf(ctx, v, layer.name);
      return withShape({ ...t, name: ctx.g.node('Flatten', [t.name], `${layer.name}_flatten`, { axis: 1 }) });
    }
    case 'Reshape': {
      const t = toTf(ctx, v, layer.name);
      const target = layer.getConfig()['targetShape'];
      if (!Array.isArray(target)) throw unsupported(layer, 'its targetShape is missing');
      const shape = ctx.g.int64s(`${layer.name}_shape`, [0, ...target.map((d) => (typeof d === 'number' ? d : -1))]);
      return withShape({ ...t, name: ctx.g.node('Reshape', [t.name, shape], `${layer.name}_reshape`) });
    }
    case 'Permute': {
      const t = toTf(ctx, v, layer.name);
      const dims = layer.getConfig()['dims'];
      if (!Array.isArray(dims)) throw unsupported(layer, 'its dims are missing');
      return withShape({ ...t, name: ctx.g.node('Transpose', [t.name], `${layer.name}_permute`, { perm: [0, ...dims.map((d) => Number(d))] }) });
    }
    case 'Activation':
      return withShape(emitActivationLayer(ctx, layer, v));
    case 'BatchNormalization':
      return withShape(emitBatchNorm(ctx, layer, v));
    default: {
      if (layer instanceof QuantWeightLayer) throw unsupported(layer, 'this quantized weight layer type has no ONNX writer');
      throw unsupported(layer, FLOAT_FIX[cls] ?? `${cls} is not supported; supported: QuantIdentity, QuantReLU, QuantLinear, QuantConv2D, QuantAvgPool2D, Univariate, Flatten, Reshape, Permute, Activation, BatchNormalization, Dropout`);
    }
  }
}
