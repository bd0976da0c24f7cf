/**
 * `npm run model:download`: fetches the embedding model (EMBEDDING_MODEL, default
 * Xenova/all-MiniLM-L6-v2: config, tokenizer and the quantized ONNX weights, about 23 MB)
 * from the Hugging Face hub into EMBEDDING_MODEL_DIR (default <DATA_DIR>/models), then
 * checks that it loads offline, exactly as the server will load it. Needs internet once;
 * the server itself never downloads unless EMBEDDING_ALLOW_DOWNLOAD=true.
 */
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../src/config/env.js';
import { loadEmbeddingModel } from '../src/services/embeddings/model.js';

async function main() {
  const { embeddings } = loadConfig(process.env);
  const options = {
    modelDir: embeddings.modelDir,
    modelName: embeddings.model,
    chunkTokens: embeddings.chunkTokens,
    chunkOverlap: embeddings.chunkOverlap,
  };
  console.log(`Downloading ${options.modelName} into ${join(options.modelDir, options.modelName)} …`);
  await loadEmbeddingModel({ ...options, allowDownload: true });
  const model = await loadEmbeddingModel({ ...options, allowDownload: false });
  console.log(`OK: ${model.modelId} loads offline (${model.dimensions} dimensions). A running server picks it up within EMBEDDING_POLL_INTERVAL (no restart needed).`);
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : `Model download failed: ${(error as Error).message}`);
  process.exit(1);
});
