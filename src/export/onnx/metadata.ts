/** The exported model's doc_string and metadata_props: tfjs-qat version, format and bit widths. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedVersion: string | null = null;

/** tfjs-qat's version, read from the package.json found above this module (works from src/ and dist/). */
export function packageVersion(): string {
  if (cachedVersion !== null) return cachedVersion;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      try {
        const j = JSON.parse(readFileSync(p, 'utf8')) as { name?: unknown; version?: unknown };
        if (j.name === 'tfjs-qat' && typeof j.version === 'string') {
          cachedVersion = j.version;
          return j.version;
        }
      } catch {
        // not ours; keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  cachedVersion = 'unknown';
  return cachedVersion;
}

/** Bit widths of one exported layer. */
export interface LayerBits {
  readonly layer: string;
  readonly kind: string;
  /** Output grid of a quantizer (activation or pool truncation). */
  readonly outputBitWidth?: number;
  readonly weightBitWidth?: number;
  /** Worst-case accumulator width for the layer's quantized input (linear, conv, avg pool sum). */
  readonly accumulatorBitWidth?: number;
}

/** Bit-width summary of a whole export. */
export interface BitWidthSummary {
  readonly layers: readonly LayerBits[];
  readonly maxActivationBitWidth: number;
  readonly maxWeightBitWidth: number;
  readonly maxAccumulatorBitWidth: number;
  /** Largest of all: the widest integer the circuit holds. */
  readonly maxBitWidth: number;
}

/** Summarize per-layer bit widths. */
export function summarizeBits(layers: readonly LayerBits[]): BitWidthSummary {
  const max = (f: (l: LayerBits) => number | undefined): number => Math.max(0, ...layers.map((l) => f(l) ?? 0));
  const a = max((l) => l.outputBitWidth);
  const w = max((l) => l.weightBitWidth);
  const acc = max((l) => l.accumulatorBitWidth);
  return { layers, maxActivationBitWidth: a, maxWeightBitWidth: w, maxAccumulatorBitWidth: acc, maxBitWidth: Math.max(a, w, acc) };
}

/** The model doc_string. */
export function docString(format: string, modelName: string, bits: BitWidthSummary): string {
  const per = bits.layers.map((l) => {
    const parts: string[] = [];
    if (l.weightBitWidth !== undefined) parts.push(`w${l.weightBitWidth}`);
    if (l.accumulatorBitWidth !== undefined) parts.push(`acc${l.accumulatorBitWidth}`);
    if (l.outputBitWidth !== undefined) parts.push(`out${l.outputBitWidth}`);
    return `${l.layer} (${l.kind}): ${parts.join(' ')}`;
  });
  return [
    `Exported by tfjs-qat ${packageVersion()} from model '${modelName}' as ${format.toUpperCase()} (ONNX opset 14).`,
    `Bit widths: activations <= ${bits.maxActivationBitWidth}, weights <= ${bits.maxWeightBitWidth}, worst-case accumulator ${bits.maxAccumulatorBitWidth} bits.`,
    ...per,
  ].join('\n');
}

/** metadata_props entries. */
export function metadataProps(format: string, bits: BitWidthSummary): { key: string; value: string }[] {
  return [
    { key: 'producer', value: 'tfjs-qat' },
    { key: 'tfjs_qat_version', value: packageVersion() },
    { key: 'format', value: format },
    { key: 'max_bit_width', value: String(bits.maxBitWidth) },
    { key: 'max_accumulator_bit_width', value: String(bits.maxAccumulatorBitWidth) },
    { key: 'max_activation_bit_width', value: String(bits.maxActivationBitWidth) },
    { key: 'max_weight_bit_width', value: String(bits.maxWeightBitWidth) },
    { key: 'bit_widths', value: JSON.stringify(bits.layers) },
  ];
}
