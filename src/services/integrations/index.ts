/**
 * Provider integrations (G1–G7): strictly per user. Keys are encrypted at rest (D10),
 * tested live before they are saved (§5.8), re-tested when a chat needs one whose last
 * test failed, and re-encrypted under the current key whenever a row written under an
 * older key is used. An integration for a provider the operator declared
 * (OPENAI_COMPATIBLE_PROVIDERS) may hold no key at all: its `api_key` is null.
 */
import type { Config } from '../../config/env.js';
import * as integrations from '../../data/integrations.js';
import type { Db } from '../../data/sql.js';
import { badRequest, notFound } from '../../lib/errors.js';
import { DecryptionError, Keyring } from '../../lib/crypto.js';
import { isUniqueViolation } from '../auth/session.js';
import { cognitiveModel, compatibleModels, fitsModelId, isBuiltIn, MODEL_ID_MAX } from '../providers/catalog.js';
import { scrubKey } from '../providers/errors.js';
import { providerFor } from '../providers/index.js';
import { type ModelListing, modelListing } from '../providers/model-lists.js';

const keyrings = new WeakMap<Config, Keyring>();

export function keyringFor(config: Config): Keyring {
  let keyring = keyrings.get(config);
  if (!keyring) keyrings.set(config, (keyring = new Keyring(config.encryptionKeys)));
  return keyring;
}

/** Tests a key ('' for none: a declared provider without keys). */
async function testKey(config: Config, provider: string, apiKey: string): Promise<integrations.TestOutcome> {
  const result = await providerFor(provider, config.llm).testConnection(apiKey);
  // A vendor may echo the key in an error text, which is stored and shown.
  const errorMessage = result.error === null ? null : scrubKey(result.error, apiKey);
  return { status: result.ok ? 'connected' : 'error', lastTested: new Date(), errorMessage };
}

/** G1: the caller's integrations in creation order. */
export const listIntegrations = (db: Db, userId: string) => integrations.integrationsOf(db, userId);

const NOT_FOUND = 'Integration not found';

/** G3: one integration (the integration policy has seen that it is the caller's). */
export async function getIntegration(db: Db, id: string) {
  const row = await integrations.findIntegration(db, id);
  if (!row) throw notFound(NOT_FOUND); // deleted since the policy loaded it
  return row;
}

const ALREADY_EXISTS = 'Integration already exists for this provider';

/** G2: the key is tested live before it is stored, encrypted. */
export async function createIntegration(
  db: Db,
  config: Config,
  userId: string,
  input: { provider: string; apiKey?: string; modelId?: string | null; modelName?: string | null },
) {
  checkModelFits(input.provider, input.modelId);
  if (await integrations.hasIntegrationFor(db, userId, input.provider)) throw badRequest(ALREADY_EXISTS);
  const tested = await testKey(config, input.provider, input.apiKey ?? '');
  try {
    return await integrations.insertIntegration(db, {
      userId,
      provider: input.provider,
      modelId: input.modelId || null,
      modelName: input.modelName || null,
      apiKey: input.apiKey === undefined ? null : keyringFor(config).encrypt(input.apiKey),
      ...tested,
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw badRequest(ALREADY_EXISTS);
    throw error;
  }
}

/** G4: a new key is re-tested and re-encrypted; the model id and name change when given. */
export async function updateIntegration(db: Db, config: Config, id: string, input: { apiKey?: string; modelId?: string | null; modelName?: string | null }) {
  const row = await getIntegration(db, id);
  checkModelFits(row.provider, input.modelId);
  const data: Parameters<typeof integrations.updateIntegration>[2] = {};
  if (input.modelId !== undefined) data.modelId = input.modelId || null;
  if (input.modelName !== undefined) data.modelName = input.modelName || null;
  if (input.apiKey !== undefined) {
    Object.assign(data, await testKey(config, row.provider, input.apiKey));
    data.apiKey = keyringFor(config).encrypt(input.apiKey);
  }
  return integrations.updateIntegration(db, row.id, data);
}

/** G5 */
export async function deleteIntegration(db: Db, id: string) {
  const deleted = await integrations.deleteIntegration(db, id);
  if (deleted.count === 0) throw notFound(NOT_FOUND); // a concurrent delete won
}

/**
 * Decrypts a stored key, re-encrypting it under the current key when it was written under an
 * older one. '' for an integration without a key.
 */
export async function revealKey(db: Db, keyring: Keyring, row: { id: string; apiKey: string | null }): Promise<string> {
  if (row.apiKey === null) return '';
  const { plaintext, stale } = keyring.decrypt(row.apiKey);
  if (stale) await integrations.replaceCiphertext(db, row.id, row.apiKey, keyring.encrypt(plaintext));
  return plaintext;
}

const DECRYPTION_FAILED = 'Failed to decrypt API key';

/** Decrypts a stored key for a test; when it cannot be, the row is marked error and null returned. */
async function revealKeyToTest(db: Db, keyring: Keyring, row: { id: string; apiKey: string | null }): Promise<string | null> {
  try {
    return await revealKey(db, keyring, row);
  } catch (error) {
    if (!(error instanceof DecryptionError)) throw error;
    await integrations.recordTest(db, row.id, { status: 'error', errorMessage: DECRYPTION_FAILED, lastTested: new Date() });
    return null;
  }
}

/** G6: re-tests the stored key. 400 when it cannot be decrypted (the row is marked error). */
export async function testIntegration(db: Db, config: Config, id: string) {
  const row = await getIntegration(db, id);
  const apiKey = await revealKeyToTest(db, keyringFor(config), row);
  if (apiKey === null) throw badRequest(DECRYPTION_FAILED);
  const tested = await testKey(config, row.provider, apiKey);
  const integration = await integrations.updateIntegration(db, row.id, tested);
  return { integration, success: tested.status === 'connected', message: tested.errorMessage ?? 'Connection test successful' };
}

/** A declared provider's models are named `<provider>/<model>`: with the `model-` prefix that must fit a conversation's modelId. */
function checkModelFits(provider: string, modelId: string | null | undefined) {
  if (!modelId || isBuiltIn(provider) || fitsModelId(provider, modelId)) return;
  const most = MODEL_ID_MAX - `model-${provider}/`.length;
  throw badRequest({ modelId: [`Ensure this field has no more than ${most} characters for provider ${provider} (model ids are model-${provider}/<model>).`] });
}

/** What /models/available says of each declared provider: reachable or not, and how many models it lists. */
export interface DeclaredProviderState {
  provider: string;
  status: ModelListing['status'];
  error: string | null;
  modelCount: number;
  /** Whether the caller has a connected integration for it (its models are listed only then). */
  connected: boolean;
  fetchedAt: Date;
}

/**
 * G7: the CognitiveModels of the caller's connected integrations, in creation order: one per
 * built-in provider, one per model a declared provider's server lists (cached; `refresh`
 * fetches the lists again). Every declared provider is also reported with its state, so a
 * server that is down shows as unavailable instead of holding up the answer.
 */
export async function availableModels(db: Db, config: Config, userId: string, options: { refresh?: boolean } = {}) {
  const { llm } = config;
  const rows = await integrations.connectedModelsOf(db, userId);
  const keyring = keyringFor(config);
  const listings = new Map<string, Promise<ModelListing>>();
  for (const row of rows) {
    if (!isBuiltIn(row.provider) && llm.compatibleProviders.some((p) => p.name === row.provider)) {
      const listing = revealKey(db, keyring, row).then(
        (apiKey) => modelListing(llm, row.provider, apiKey, options),
        (error: unknown): ModelListing => {
          if (!(error instanceof DecryptionError)) throw error;
          return { status: 'unavailable', models: [], error: DECRYPTION_FAILED, fetchedAt: new Date() };
        },
      );
      listings.set(row.provider, listing);
    }
  }
  for (const { name } of llm.compatibleProviders) {
    if (!listings.has(name)) listings.set(name, modelListing(llm, name, '', options));
  }
  const listed = new Map(await Promise.all([...listings].map(async ([name, listing]) => [name, await listing] as const)));
  const models = rows.flatMap((row) => {
    if (isBuiltIn(row.provider)) return [cognitiveModel(row, llm)];
    const listing = listed.get(row.provider);
    return listing ? compatibleModels(row, listing.models, llm) : []; // a provider no longer declared
  });
  const connected = new Set(rows.map((row) => row.provider));
  const declared: DeclaredProviderState[] = llm.compatibleProviders.map(({ name }) => {
    const listing = listed.get(name)!;
    return { provider: name, status: listing.status, error: listing.error, modelCount: listing.models.length, connected: connected.has(name), fetchedAt: listing.fetchedAt };
  });
  return { models, declared };
}

/** How often a chat may re-test an integration whose last test failed. */
export const RETEST_INTERVAL_MS = 60_000;

/** A chat's view of one of its caller's integrations (as the reply context reads it). */
export interface StoredIntegration {
  id: string;
  provider: string;
  /** As stored: encrypted; null for an integration without a key. */
  apiKey: string | null;
  status: string;
}

/** The usable key, or why the integration cannot be used (its last test's error). */
export type KeyOutcome = { apiKey: string } | { apiKey: null; errorMessage: string };

const retestsInFlight = new WeakMap<Db, Map<string, Promise<KeyOutcome>>>();

/**
 * The key of an integration a chat is about to use. A connected one is used as it is. One
 * whose last test failed (for example, saved while its provider was unreachable) is
 * re-tested, at most once per RETEST_INTERVAL_MS: the re-test first moves `last_tested`
 * forward in one conditional update, so concurrent sends and other processes see it as
 * just tested, and sends in this process that arrive meanwhile share its outcome.
 */
export async function usableKey(db: Db, config: Config, row: StoredIntegration): Promise<KeyOutcome> {
  if (row.status === 'connected') return { apiKey: await revealKey(db, keyringFor(config), row) };
  let inFlight = retestsInFlight.get(db);
  if (!inFlight) retestsInFlight.set(db, (inFlight = new Map()));
  let outcome = inFlight.get(row.id);
  if (!outcome) {
    outcome = retestIfDue(db, config, row).finally(() => inFlight.delete(row.id));
    inFlight.set(row.id, outcome);
  }
  return outcome;
}

async function retestIfDue(db: Db, config: Config, row: StoredIntegration): Promise<KeyOutcome> {
  const keyring = keyringFor(config);
  if (!(await integrations.claimRetest(db, row.id, new Date(), RETEST_INTERVAL_MS))) {
    // Tested within the interval, or connected meanwhile: the row as it stands decides.
    const current = await integrations.keyState(db, row.id);
    if (current?.status === 'connected') return { apiKey: await revealKey(db, keyring, current) };
    return { apiKey: null, errorMessage: current?.errorMessage ?? 'never tested' };
  }
  const apiKey = await revealKeyToTest(db, keyring, row);
  if (apiKey === null) return { apiKey: null, errorMessage: DECRYPTION_FAILED };
  const tested = await testKey(config, row.provider, apiKey);
  await integrations.recordTest(db, row.id, tested);
  return tested.status === 'connected' ? { apiKey } : { apiKey: null, errorMessage: tested.errorMessage ?? 'unknown error' };
}
