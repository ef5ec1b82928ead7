/**
 * The cpu backend's kernel patches.
 */
import type { KernelPatch } from './kernel_patch.js';
import { wrapCpuConv2DBackpropFilter } from './cpu_conv2d_backprop_filter.js';
import { cpuReluGradConfig, registerReluGradient, RELU_GRAD_KERNEL } from './wasm_relu_grad.js';

/** Patches applied to the cpu backend by registerExtraKernels('cpu'). */
export const cpuKernelPatches: readonly KernelPatch[] = [
  {
    kernelName: 'Conv2DBackpropFilter',
    description: 'typed-array loop instead of TensorBuffer.get per element',
    build: (original) => (original === undefined ? undefined : { ...original, kernelFunc: wrapCpuConv2DBackpropFilter(original.kernelFunc) }),
  },
  {
    kernelName: RELU_GRAD_KERNEL,
    description: 'added: the ReLU gradient dy * (x > 0) as one loop (tfjs: Step + Cast + Multiply)',
    build: (original) => {
      registerReluGradient();
      return original === undefined ? cpuReluGradConfig : undefined;
    },
  },
];
