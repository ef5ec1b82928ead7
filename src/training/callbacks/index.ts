/** Built-in training callbacks. */
export { EpochTimer } from './epoch_timer.js';
export { PrintLog, type PrintLogOptions } from './print_log.js';
export { ProgressBar, type ProgressBarOptions } from './progress_bar.js';
export { EpochScoring, type EpochScoringOptions, type ScoringFn } from './epoch_scoring.js';
export { EarlyStopping, type EarlyStoppingOptions } from './early_stopping.js';
export { Checkpoint, type CheckpointOptions } from './checkpoint.js';
export { LRScheduler, type LRSchedulerOptions, type LRPolicy } from './lr_scheduler.js';
export { GradientNormClipping, type GradientNormClippingOptions } from './gradient_norm_clipping.js';
