/**
 * Errors thrown by tfjs-qat. Every message says what failed, the value received and how to fix it.
 * Catch `QatError` to catch them all.
 */

/** Base class of every error tfjs-qat throws on bad input or bad state. */
export class QatError extends Error {
  override name = 'QatError';
  constructor(message: string) {
    super(message);
  }
}

/** An option or argument has an invalid value (wrong type, out of range, unknown key). */
export class ConfigError extends QatError {
  override name = 'ConfigError';
}

/** A method that needs fitted/initialized state was called too early. */
export class NotInitializedError extends QatError {
  override name = 'NotInitializedError';
}

/** Input data is malformed: wrong shape, NaN/Infinity, empty, unseen labels, bad CSV. */
export class DataError extends QatError {
  override name = 'DataError';
}

/** A layer (or tree model) cannot be converted by an exporter. */
export class UnsupportedLayerError extends QatError {
  override name = 'UnsupportedLayerError';
}

/** A table-lookup input or accumulator needs more bits than the FHE limit allows. */
export class AccumulatorOverflowError extends QatError {
  override name = 'AccumulatorOverflowError';
}

/** A circuit JSON document does not follow the circuit format; the message names the JSON path. */
export class CircuitFormatError extends QatError {
  override name = 'CircuitFormatError';
  /** JSON path of the first problem, e.g. `$.nodes[3].weights`. */
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.path = path;
  }
}

/** A saved model or file is missing, unreadable or corrupt. */
export class ModelFileError extends QatError {
  override name = 'ModelFileError';
}

/** The requested backend cannot be loaded. */
export class BackendError extends QatError {
  override name = 'BackendError';
}

/** A model breaks the mixed-integer design (see `checkMixedInteger`). */
export class MixedIntegerError extends QatError {
  override name = 'MixedIntegerError';
  /** Every violation found, each naming the layer and the fix. */
  readonly violations: readonly string[];
  constructor(violations: readonly string[]) {
    super(`the model breaks the mixed-integer rules:\n- ${violations.join('\n- ')}`);
    this.violations = violations;
  }
}

/** Lazy assertion: builds the message only on failure; throws a ConfigError by default. */
export function assert(cond: unknown, message: () => string, ErrorClass: new (m: string) => QatError = ConfigError): asserts cond {
  if (!cond) throw new ErrorClass(message());
}
