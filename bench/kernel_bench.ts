/**
 * Per-kernel micro-benchmark: tfjs' own kernels vs tfjs-qat's (registerExtraKernels), same process, interleaved.
 * Run: npx tsx bench/kernel_bench.ts [--reps 7] [--only GreaterEqual,Select]
 * Prints one line per (backend, kernel case): median process-CPU ms before, after (incl. reading the output),
 * speedup, and the max relative difference between the two outputs.
 */
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/backend/use_backend.js';
import { registerExtraKernels, unregisterExtraKernels } from '../src/backend/kernels/register.js';

interface KernelCase {
  readonly name: string;
  readonly kernel: string;
  readonly inputs: Record<string, number[]>;
  readonly attrs: tf.NamedAttrMap;
}

const CASES: readonly KernelCase[] = [
  { name: 'dW conv1 128x28x28x1->8 k3 same', kernel: 'Conv2DBackpropFilter', inputs: { x: [128, 28, 28, 1], dy: [128, 28, 28, 8] },
    attrs: { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 1, 8] } },
  { name: 'dW conv2 128x14x14x8->16 k3 same', kernel: 'Conv2DBackpropFilter', inputs: { x: [128, 14, 14, 8], dy: [128, 14, 14, 16] },
    attrs: { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 8, 16] } },
  { name: 'dW 128x28x28x8->16 k3 s2 same', kernel: 'Conv2DBackpropFilter', inputs: { x: [128, 28, 28, 8], dy: [128, 14, 14, 16] },
    attrs: { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 8, 16] } },
  { name: 'dx conv2 128x14x14x16->8 k3 same', kernel: 'Conv2DBackpropInput', inputs: { dy: [128, 14, 14, 16], filter: [3, 3, 8, 16] },
    attrs: { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', inputShape: [128, 14, 14, 8] } },
  { name: 'AvgPoolGrad 128x28x28x8 pool 2', kernel: 'AvgPoolGrad', inputs: { dy: [128, 14, 14, 8], input: [128, 28, 28, 8] },
    attrs: { filterSize: [2, 2], strides: [2, 2], pad: 'valid' } },
  { name: 'AvgPoolGrad 128x14x14x16 pool 2', kernel: 'AvgPoolGrad', inputs: { dy: [128, 7, 7, 16], input: [128, 14, 14, 16] },
    attrs: { filterSize: [2, 2], strides: [2, 2], pad: 'valid' } },
  { name: 'Equal 784x256 vs [1,1] (max grad)', kernel: 'Equal', inputs: { a: [784, 256], b: [1, 1] }, attrs: {} },
  { name: 'LessEqual [1,1,1,1] vs 128x28x28x8', kernel: 'LessEqual', inputs: { a: [1, 1, 1, 1], b: [128, 28, 28, 8] }, attrs: {} },
  { name: 'dA = dy·Bᵀ 128x256 · (784x256)ᵀ', kernel: 'BatchMatMul', inputs: { a: [1, 128, 256], b: [1, 784, 256] },
    attrs: { transposeA: false, transposeB: true } },
  { name: 'dB = Aᵀ·dy (128x784)ᵀ · 128x256', kernel: 'BatchMatMul', inputs: { a: [1, 128, 784], b: [1, 128, 256] },
    attrs: { transposeA: true, transposeB: false } },
  { name: 'Aᵀ·Bᵀ 64x128 / 256x64', kernel: 'BatchMatMul', inputs: { a: [1, 64, 128], b: [1, 256, 64] },
    attrs: { transposeA: true, transposeB: true } },
];

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function timeKernel(c: KernelCase, inputs: Record<string, tf.Tensor>, reps: number): { ms: number; out: Float32Array } {
  const times: number[] = [];
  let out: Float32Array = new Float32Array(0);
  for (let r = 0; r < reps + 1; r++) {
    // Process CPU time (single-threaded kernels): robust when other jobs load the machine.
    const c0 = process.cpuUsage();
    const y = tf.engine().runKernel(c.kernel, inputs, c.attrs) as tf.Tensor;
    y.dataSync();
    const d = process.cpuUsage(c0);
    const dt = (d.user + d.system) / 1000;
    out = Float32Array.from(y.dataSync());
    y.dispose();
    if (r > 0) times.push(dt);
  }
  return { ms: median(times), out };
}

function relDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(b[i]!));
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
  }
  return m === 0 ? d : d / m;
}

const args = process.argv.slice(2);
const repsArg = args.indexOf('--reps');
const reps = repsArg >= 0 ? Number(args[repsArg + 1]) : 7;
const onlyArg = args.indexOf('--only');
const only = onlyArg >= 0 ? (args[onlyArg + 1] ?? '').split(',') : [];
for (const backend of ['wasm', 'cpu'] as const) {
  await useBackend(backend, { quiet: true });
  for (const c of CASES.filter((k) => only.length === 0 || only.some((o) => k.kernel.includes(o) || k.name.includes(o)))) {
    if (backend === 'cpu' && c.kernel !== 'Conv2DBackpropFilter') continue;
    const inputs: Record<string, tf.Tensor> = {};
    let seed = 1;
    for (const [k, shape] of Object.entries(c.inputs)) {
      const t = tf.randomNormal(shape, 0, 1, 'float32', seed++);
      inputs[k] = k === 'condition' ? tf.tidy(() => tf.greater(t, 0)) : t;
      if (k === 'condition') t.dispose();
    }
    unregisterExtraKernels(backend);
    let before: { ms: number; out: Float32Array } | undefined;
    const hasBuiltin = tf.getKernel(c.kernel, backend) !== undefined;
    if (hasBuiltin) before = timeKernel(c, inputs, backend === 'cpu' ? Math.min(reps, 3) : reps);
    registerExtraKernels(backend);
    const after = timeKernel(c, inputs, reps);
    const b = before === undefined ? 'n/a' : before.ms.toFixed(1);
    const sp = before === undefined ? '-' : (before.ms / after.ms).toFixed(1) + 'x';
    const err = before === undefined ? '-' : relDiff(after.out, before.out).toExponential(1);
    console.log(`${backend.padEnd(5)} ${c.name.padEnd(38)} before ${b.padStart(8)} ms  after ${after.ms.toFixed(1).padStart(7)} ms  ${sp.padStart(6)}  rel.diff ${err}`);
    tf.dispose(Object.values(inputs));
  }
}
