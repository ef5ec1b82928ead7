// Every WebAssembly module tfjs-qat assembles must compile on this engine: a rejected module makes its kernel fall
// back to a slower path silently (values stay right, so no other test would notice).
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import '../../src/index.js';
import { HeapModule } from '../../src/backend/wasm_module.js';
import { simdOf } from '../../src/quant/kernels/simd_paths.js';
import { useBackend } from '../../src/backend/use_backend.js';
import { quantAvgPool2D, quantConv2D, quantIdentity, quantLinear, quantReLU } from '../../src/layers/index.js';
import { makeOptimizer } from '../../src/training/optimizers.js';

describe('backend: tfjs-qat wasm modules', () => {
  it('all compile (after a CNN training step creates the shape-specialized ones), and the quantizer SIMD is bound', async () => {
    const { backend } = await useBackend('wasm', { quiet: true });
    expect(backend).to.equal('wasm');
    expect(simdOf(tf.backend())).to.not.equal(null);
    const m = tf.sequential({ layers: [
      quantIdentity({ inputShape: [8, 8, 1], bitWidth: 4, collectStatsSteps: 1 }),
      quantConv2D({ filters: 8, kernelSize: 3, padding: 'same', weightBitWidth: 4 }),
      quantReLU({ bitWidth: 4, collectStatsSteps: 1 }),
      quantAvgPool2D({ poolSize: 2, bitWidth: 4 }),
      tf.layers.flatten(),
      quantLinear({ units: 64, weightBitWidth: 4 }),
      quantReLU({ bitWidth: 4 }),
      quantLinear({ units: 3, weightBitWidth: 4 }),
    ] });
    const opt = makeOptimizer('adam', 1e-3);
    const x = tf.randomUniform([16, 8, 8, 1], 0, 1, 'float32', 1);
    for (let i = 0; i < 2; i++) opt.minimize(() => tf.sum(tf.square(m.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, true)?.dispose();
    expect(HeapModule.created.length).to.be.greaterThan(8);
    const failed = HeapModule.created.map((h, i) => [i, h.module() === null ? String(h.compileError) : ''] as const).filter(([, e]) => e !== '');
    expect(failed).to.deep.equal([]);
    tf.dispose([x]);
    opt.dispose();
    m.dispose();
  });
});
