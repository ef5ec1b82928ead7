// Mocha root hooks: every suite runs on the default backend ('auto'), unless TFJS_QAT_BACKEND names another.
import { useBackend, type BackendName } from '../../src/backend/use_backend.js';

export const mochaHooks = {
  async beforeAll(): Promise<void> {
    const name = (process.env['TFJS_QAT_BACKEND'] ?? 'auto') as BackendName;
    await useBackend(name, { quiet: true });
  },
};
