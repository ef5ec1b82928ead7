import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/backend/use_backend.js';
import { ConfigError } from '../../src/errors.js';

describe('useBackend', () => {
  after(async () => { await useBackend('auto', { quiet: true }); });
  it('auto picks wasm here (tfjs-node cannot load) and says why', async () => {
    const choice = await useBackend('auto', { quiet: true });
    expect(['tensorflow', 'wasm']).to.include(choice.backend);
    expect(tf.getBackend()).to.equal(choice.backend);
    if (choice.backend === 'wasm') expect(choice.reason).to.match(/tfjs-node/);
  });
  it('switches to cpu and back', async () => {
    expect((await useBackend('cpu', { quiet: true })).backend).to.equal('cpu');
    expect(tf.getBackend()).to.equal('cpu');
    expect((await useBackend('wasm', { quiet: true })).backend).to.equal('wasm');
  });
  it('rejects an unknown name', async () => {
    let err: unknown;
    try { await useBackend('gpu' as never); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.match(/unknown backend 'gpu'.*auto, tensorflow, wasm, cpu/);
  });
});
