/**
 * Whether a model's files are in the model directory: checked before transformers.js is
 * loaded, and by the server's main thread before it starts the embedding worker at all (a
 * server without a model then never loads transformers.js and ONNX Runtime).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelOptions } from './model.js';

/** Why the model cannot load. The message is shown by the public health report, so it names no path; `detail` (for the log) may. */
export class ModelUnavailableError extends Error {
  constructor(
    message: string,
    readonly detail: string | null = null,
  ) {
    super(message);
  }
}

const REQUIRED_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];

/** Which ONNX file to load, or why none can be: checked before transformers.js is asked. */
export function localModelFile(options: ModelOptions): { quantized: boolean } {
  const root = join(options.modelDir, options.modelName);
  const missing = REQUIRED_FILES.filter((f) => !existsSync(join(root, f)));
  const quantized = existsSync(join(root, 'onnx', 'model_quantized.onnx'));
  const full = existsSync(join(root, 'onnx', 'model.onnx'));
  if (!quantized && !full) missing.push('onnx/model_quantized.onnx');
  if (missing.length) {
    throw new ModelUnavailableError(
      `model files of ${options.modelName} not found in the model directory (missing ${missing.join(', ')}); run \`npm run model:download\` or set EMBEDDING_MODEL_DIR`,
      `looked in ${root}`,
    );
  }
  return { quantized };
}

