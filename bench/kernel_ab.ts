/**
 * In-process, interleaved A/B of one workload with tfjs-qat's kernels on and off (unregisterExtraKernels /
 * registerExtraKernels between rounds), in process-CPU milliseconds per training step and per inference batch.
 * More robust than separate runs when other jobs load the machine.
 * Run: npx tsx bench/kernel_ab.ts <workload> [backend=wasm] [rounds=5] [steps=5]
 * (CNN workloads on wasm cannot train with kernels off: tfjs-backend-wasm has no Conv2DBackpropFilter.)
 */
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/backend/use_backend.js';
import { registerExtraKernels, unregisterExtraKernels } from '../src/backend/kernels/register.js';
import { median } from './harness.js';
import { findWorkload } from './workloads/index.js';

const [name = 'mlp-float', backendArg = 'wasm', roundsArg = '5', stepsArg = '5'] = process.argv.slice(2);
const backend = backendArg === 'cpu' ? 'cpu' : 'wasm';
const found = findWorkload(name);
if (found === undefined) throw new Error(`unknown workload '${name}'`);
if (found.kind === 'custom') throw new Error(`workload '${name}' has its own measurement; kernel_ab takes a training workload (mlp-*, cnn-*)`);
const w = found;
await useBackend(backend, { quiet: true });
const model = w.build(1);
const opt = tf.train.adam(1e-3);
const x = tf.randomUniform([w.batchSize, ...w.inputShape], 0, 1, 'float32', 1);
const y = tf.tidy(() => tf.oneHot(tf.randomUniform([w.batchSize], 0, w.classes, 'float32', 2).floor().toInt(), w.classes).toFloat());
const step = (): void => {
  opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, false);
};
const infer = (): void => {
  const o = model.predict(x) as tf.Tensor;
  o.dataSync();
  o.dispose();
};
const cpuMs = (f: () => void, n: number): number => {
  const c = process.cpuUsage();
  for (let i = 0; i < n; i++) f();
  const d = process.cpuUsage(c);
  return (d.user + d.system) / 1000 / n;
};
const canTrainOff = !(backend === 'wasm' && w.net === 'cnn');
const steps = Number(stepsArg);
for (let i = 0; i < 3; i++) step();
const res = { trainOn: [] as number[], trainOff: [] as number[], inferOn: [] as number[], inferOff: [] as number[] };
const measureOn = (): void => {
  res.trainOn.push(cpuMs(step, steps));
  res.inferOn.push(cpuMs(infer, steps));
};
const measureOff = (): void => {
  unregisterExtraKernels(backend);
  if (canTrainOff) res.trainOff.push(cpuMs(step, steps));
  res.inferOff.push(cpuMs(infer, steps));
  registerExtraKernels(backend);
};
for (let r = 0; r < Number(roundsArg); r++) {
  // Alternate the order so neither mode always follows the other.
  if (r % 2 === 0) { measureOn(); measureOff(); } else { measureOff(); measureOn(); }
}
const show = (v: number[]): string => (v.length === 0 ? 'n/a' : median(v).toFixed(1));
console.log(`${w.name} on ${backend} (CPU ms, median of ${roundsArg} rounds x ${steps})`);
console.log(`  train step: kernels on ${show(res.trainOn)}  off ${show(res.trainOff)}` +
  (res.trainOff.length > 0 ? `  speedup ${(median(res.trainOff) / median(res.trainOn)).toFixed(2)}x` : ''));
console.log(`  inference batch: kernels on ${show(res.inferOn)}  off ${show(res.inferOff)}  speedup ${(median(res.inferOff) / median(res.inferOn)).toFixed(2)}x`);
tf.dispose([x, y]);
opt.dispose();
model.dispose();
