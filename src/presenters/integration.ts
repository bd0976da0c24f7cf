import type { Integration } from '../generated/prisma/client.js';
import type { Keyring } from '../lib/crypto.js';
import { maskSecret } from '../lib/crypto.js';
import type { Presented } from '../schemas/responses/common.js';
import type { Integration as IntegrationSchema, ModelList } from '../schemas/responses/integrations.js';

type PresentedModels = Presented<typeof ModelList>;

type IntegrationRow = Pick<Integration, 'id' | 'provider' | 'modelId' | 'modelName' | 'apiKey' | 'status' | 'lastTested' | 'errorMessage'>;

/** Masks the stored key: `abc...xyz`, or `***` when short or undecryptable (§5.9); '' when there is none. */
export function maskedKey(keyring: Keyring, ciphertext: string | null): string {
  if (ciphertext === null) return '';
  try {
    return maskSecret(keyring.decrypt(ciphertext).plaintext);
  } catch {
    return '***';
  }
}

/** Integration as the frontend reads it: no userId, no createdAt, the key masked. */
export function presentIntegration(row: IntegrationRow, keyring: Keyring): Presented<typeof IntegrationSchema> {
  return {
    id: row.id,
    provider: row.provider,
    modelId: row.modelId,
    modelName: row.modelName,
    apiKey: maskedKey(keyring, row.apiKey),
    status: row.status,
    lastTested: row.lastTested?.toISOString() ?? null,
    errorMessage: row.errorMessage,
  };
}

/** G7: the models, their count, and the state of every declared OpenAI-compatible provider. */
export function presentModelList({ models, declared }: {
  models: PresentedModels['models'];
  declared: (Omit<PresentedModels['providers'][number], 'fetchedAt'> & { fetchedAt: Date })[];
}): PresentedModels {
  return { models, total: models.length, providers: declared.map((p) => ({ ...p, fetchedAt: p.fetchedAt.toISOString() })) };
}
