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

/** Replace `original`'s kernelFunc, keeping its setup/dispose hooks. */
function replaced(original: tf.KernelConfig | undefined, wrap: (f: tf.KernelFunc) => tf.KernelFunc): tf.KernelConfig | undefined {
  return original === undefined ? undefined : { ...original, kernelFunc: wrap(original.kernelFunc) };
}

/** Patches applied to the wasm backend by registerExtraKernels('wasm'). */
export const wasmKernelPatches: readonly KernelPatch[] = [
  {
    kernelName: 'Conv2DBackpropFilter',
    description: 'added: transpose x and dy, one XNNPACK conv with dilation = stride',
    build: (original) => (original === undefined ? wasmConv2DBackpropFilterConfig : undefined),
  },
  {
    kernelName: 'BatchMatMul',
    description: 'transposed operands are transposed first so XNNPACK runs',
    build: (original) => replaced(original, wrapTransposedMatMul),
  },
  {
    kernelName: '_FusedMatMul',
    description: 'transposed operands are transposed first so XNNPACK runs',
    build: (original) => replaced(original, wrapTransposedMatMul),
  },
  {
    kernelName: 'Conv2DBackpropInput',
    description: 'stride 1: one conv with the flipped, channel-swapped filter',
    build: (original) => replaced(original, wrapConv2DBackpropInput),
  },
  {
    kernelName: 'AvgPoolGrad',
    description: 'unpadded pools: scatter loop over the wasm heap',
    build: (original) => replaced(original, wrapAvgPoolGrad),
  },
  ...BINARY_BOOL_KERNELS.map((name): KernelPatch => ({
    kernelName: name,
    description: 'size-1 operand of rank > 0: passed as a rank-0 scalar (fast path instead of generic broadcast)',
    build: (original) => replaced(original, wrapBinaryBool),
  })),
];
