/** Data-parallel training across worker threads (the estimators' `workers` option). */
export { ParallelSession, splitRows, type ParallelHost } from './session.js';
export { shutdownParallelWorkers } from './worker_handle.js';
export { resolveWorkersOption, chooseWorkerCount, estimateStepMflop, AUTO_MIN_MFLOP_PER_STEP, MAX_WORKERS, type WorkersOption, type WorkerChoiceInput } from './options.js';
export { takeParallelProfile, type StepProfile } from './profile.js';
