/**
 * The wasm backend's kernel patches.
 */
import type * as tf from '@tensorflow/tfjs';
import type { KernelPatch } from './kernel_patch.js';
import { wrapAvgPoolGrad } from './wasm_avg_pool_grad.js';
import { BINARY_BOOL_KERNELS, wrapBinaryBool } from './wasm_elementwise.js';
import { wrapTransposedMatMul } from './wasm_batch_mat_mul.js';
import { wasmConv2DBackpropFilterConfig } from './wasm_conv2d_backprop_filter.js';
import { wrapConv2DBackpropInput } from './wasm_conv2d_backprop_input.js';
import { wrapConv2D } from './wasm_conv2d.js';
import { wrapCast, wrapIdentity } from './wasm_identity.js';
import { wrapBiasAdd } from './wasm_bias_add.js';
import { wrapColumnSum } from './wasm_reduce.js';
import { RELU_GRAD_KERNEL, registerReluGradient, wasmReluGradConfig } from './wasm_relu_grad.js';
import { wrapAvgPool } from './wasm_avg_pool.js';

/** Replace `original`'s kernelFunc, keeping its setup/dispose hooks. */
function replaced(original: tf.KernelConfig | undefined, wrap: (f: tf.KernelFunc) => tf.KernelFunc): tf.KernelConfig | undefined {
  return original === undefined ? undefined : { ...original, kernelFunc: wrap(original.kernelFunc) };
}

/** Patches applied to the wasm backend by registerExtraKernels('wasm'). */
export const wasmKernelPatches: readonly KernelPatch[] = [
  {
    kernelName: 'Conv2DBackpropFilter',
    description: 'added: SIMD loop (NHWC, Cout % 4 == 0), else transposes + one XNNPACK conv with dilation = stride',
    build: (original) => (original === undefined ? wasmConv2DBackpropFilterConfig : undefined),
  },
  {
    kernelName: 'BatchMatMul',
    description: 'float32 batch-1 products >= 256 KFLOP: tfjs-qat SIMD GEMM on 2 threads (src/backend/gemm); else transposed operands are transposed first so XNNPACK runs',
    build: (original) => replaced(original, wrapTransposedMatMul),
  },
  {
    kernelName: '_FusedMatMul',
    description: 'float32 batch-1 products >= 256 KFLOP: tfjs-qat SIMD GEMM on 2 threads (src/backend/gemm); else transposed operands are transposed first so XNNPACK runs',
    build: (original) => replaced(original, wrapTransposedMatMul),
  },
  {
    kernelName: 'Conv2DBackpropInput',
    description: 'SIMD loop (NHWC, Cin or Cout % 4 == 0, any stride), else stride 1 as one XNNPACK conv',
    build: (original) => replaced(original, wrapConv2DBackpropInput),
  },
  {
    kernelName: 'Conv2D',
    description: 'stride 1: SIMD loop (shared with the input gradient), else XNNPACK',
    build: (original) => replaced(original, wrapConv2D),
  },
  {
    kernelName: 'AvgPoolGrad',
    description: 'unpadded pools: scatter loop over the wasm heap; exactly tiling pools (stride = pool, C % 4 == 0): f32x4 loop',
    build: (original) => replaced(original, wrapAvgPoolGrad),
  },
  {
    kernelName: 'AvgPool',
    description: '2x2 stride-2 unpadded pools, C % 4 == 0: f32x4 loop in XNNPACK\'s sum order (bit-identical)',
    build: (original) => replaced(original, wrapAvgPool),
  },
  {
    kernelName: 'Identity',
    description: 'no copy: the output shares the input data (refCount + 1), like Reshape',
    build: (original) => replaced(original, wrapIdentity),
  },
  {
    kernelName: 'Cast',
    description: 'cast to the same dtype: no copy, the output shares the input data (as on cpu)',
    build: (original) => replaced(original, wrapCast),
  },
  {
    kernelName: 'Add',
    description: 'bias broadcast [..., C] + [C]: one row loop (f32x4 when C % 4 == 0) instead of the generic broadcast',
    build: (original) => replaced(original, wrapBiasAdd),
  },
  {
    kernelName: 'Sum',
    description: 'sum over all leading axes [..., C] -> [C]: column sums with float64 accumulators (f32x4 loads)',
    build: (original) => replaced(original, wrapColumnSum),
  },
  {
    kernelName: RELU_GRAD_KERNEL,
    description: 'added: fused Relu gradient dy * step(x) (one SIMD pass instead of Step + Cast + Multiply); registers the Relu gradient',
    build: (original) => {
      registerReluGradient();
      return original === undefined ? wasmReluGradConfig : undefined;
    },
  },
  ...BINARY_BOOL_KERNELS.map((name): KernelPatch => ({
    kernelName: name,
    description: 'size-1 operand of rank > 0: passed as a rank-0 scalar (fast path instead of generic broadcast)',
    build: (original) => replaced(original, wrapBinaryBool),
  })),
];
