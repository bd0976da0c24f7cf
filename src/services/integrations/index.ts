/**
 * Provider integrations (G1–G7): strictly per user. Keys are encrypted at rest (D10),
 * tested live before they are saved (§5.8), re-tested when a chat needs one whose last
 * test failed, and re-encrypted under the current key whenever a row written under an
 * older key is used.
 */
import type { AppDeps } from '../../app-deps.js';
import type { Config, ProviderName } from '../../config/env.js';
import { badRequest, notFound } from '../../http/errors.js';
import { DecryptionError, Keyring } from '../../lib/crypto.js';
import { newId } from '../../lib/ids.js';
import { isUniqueViolation } from '../auth/session.js';
import { cognitiveModel } from '../providers/catalog.js';
import { scrubKey } from '../providers/errors.js';
import { providerFor } from '../providers/index.js';

const keyrings = new WeakMap<Config, Keyring>();

export function keyringFor(config: Config): Keyring {
  let keyring = keyrings.get(config);
  if (!keyring) keyrings.set(config, (keyring = new Keyring(config.encryptionKeys)));
  return keyring;
}

async function testKey(deps: AppDeps, provider: ProviderName, apiKey: string) {
  const result = await providerFor(provider, deps.config.llm).testConnection(apiKey);
  // A vendor may echo the key in an error text, which is stored and shown.
  const errorMessage = result.error === null ? null : scrubKey(result.error, apiKey);
  return { status: result.ok ? 'connected' : 'error', lastTested: new Date(), errorMessage };
}

export function listIntegrations(deps: AppDeps, userId: string) {
  return deps.prisma.integration.findMany({ where: { userId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
}

export async function getOwnIntegration(deps: AppDeps, userId: string, id: string) {
  const row = await deps.prisma.integration.findFirst({ where: { id, userId } });
  if (!row) throw notFound('Integration not found');
  return row;
}

const ALREADY_EXISTS = 'Integration already exists for this provider';

export async function createIntegration(
  deps: AppDeps,
  userId: string,
  input: { provider: ProviderName; apiKey: string; modelId?: string | null; modelName?: string | null },
) {
  const exists = await deps.prisma.integration.findUnique({ where: { userId_provider: { userId, provider: input.provider } }, select: { id: true } });
  if (exists) throw badRequest(ALREADY_EXISTS);
  const tested = await testKey(deps, input.provider, input.apiKey);
  try {
    return await deps.prisma.integration.create({
      data: {
        id: newId('int'),
        userId,
        provider: input.provider,
        modelId: input.modelId || null,
        modelName: input.modelName || null,
        apiKey: keyringFor(deps.config).encrypt(input.apiKey),
        ...tested,
      },
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw badRequest(ALREADY_EXISTS);
    throw error;
  }
}

export async function updateIntegration(
  deps: AppDeps,
  userId: string,
  id: string,
  input: { apiKey?: string; modelId?: string | null; modelName?: string | null },
) {
  const row = await getOwnIntegration(deps, userId, id);
  const data: Record<string, unknown> = {};
  if (input.modelId !== undefined) data.modelId = input.modelId || null;
  if (input.modelName !== undefined) data.modelName = input.modelName || null;
  if (input.apiKey !== undefined) {
    Object.assign(data, await testKey(deps, row.provider as ProviderName, input.apiKey));
    data.apiKey = keyringFor(deps.config).encrypt(input.apiKey);
  }
  return deps.prisma.integration.update({ where: { id: row.id }, data });
}

export async function deleteIntegration(deps: AppDeps, userId: string, id: string) {
  const row = await getOwnIntegration(deps, userId, id);
  await deps.prisma.integration.deleteMany({ where: { id: row.id } });
}

/** Decrypts a stored key, re-encrypting it under the current key when it was written under an older one. */
export async function revealKey(deps: AppDeps, row: { id: string; apiKey: string }): Promise<string> {
  const keyring = keyringFor(deps.config);
  const { plaintext, stale } = keyring.decrypt(row.apiKey);
  if (stale) {
    await deps.prisma.integration.updateMany({ where: { id: row.id, apiKey: row.apiKey }, data: { apiKey: keyring.encrypt(plaintext) } });
  }
  return plaintext;
}

const DECRYPTION_FAILED = 'Failed to decrypt API key';

/** Decrypts a stored key for a test; when it cannot be, the row is marked error and null returned. */
async function revealKeyToTest(deps: AppDeps, row: { id: string; apiKey: string }): Promise<string | null> {
  try {
    return await revealKey(deps, row);
  } catch (error) {
    if (!(error instanceof DecryptionError)) throw error;
    await deps.prisma.integration.updateMany({ where: { id: row.id }, data: { status: 'error', errorMessage: DECRYPTION_FAILED, lastTested: new Date() } });
    return null;
  }
}

/** G6: re-tests the stored key. 400 when it cannot be decrypted (the row is marked error). */
export async function testIntegration(deps: AppDeps, userId: string, id: string) {
  const row = await getOwnIntegration(deps, userId, id);
  const apiKey = await revealKeyToTest(deps, row);
  if (apiKey === null) throw badRequest(DECRYPTION_FAILED);
  const tested = await testKey(deps, row.provider as ProviderName, apiKey);
  const integration = await deps.prisma.integration.update({ where: { id: row.id }, data: tested });
  return { integration, success: tested.status === 'connected', message: tested.errorMessage ?? 'Connection test successful' };
}

/** G7: one CognitiveModel per connected integration, in creation order. */
export async function availableModels(deps: AppDeps, userId: string) {
  const rows = await deps.prisma.integration.findMany({
    where: { userId, status: 'connected' },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    select: { provider: true, modelId: true, modelName: true },
  });
  return rows.map((row) => cognitiveModel(row, deps.config.llm));
}

/** How often a chat may re-test an integration whose last test failed. */
export const RETEST_INTERVAL_MS = 60_000;

/** A chat's view of one of its caller's integrations (as the reply context reads it). */
export interface StoredIntegration {
  id: string;
  provider: string;
  /** As stored: encrypted. */
  apiKey: string;
  status: string;
}

/** The usable key, or why the integration cannot be used (its last test's error). */
export type KeyOutcome = { apiKey: string } | { apiKey: null; errorMessage: string };

const retestsInFlight = new WeakMap<AppDeps, Map<string, Promise<KeyOutcome>>>();

/**
 * The key of an integration a chat is about to use. A connected one is used as it is. One
 * whose last test failed (for example, saved while its provider was unreachable) is
 * re-tested, at most once per RETEST_INTERVAL_MS: the re-test first moves `last_tested`
 * forward in one conditional update, so concurrent sends and other processes see it as
 * just tested, and sends in this process that arrive meanwhile share its outcome.
 */
export async function usableKey(deps: AppDeps, row: StoredIntegration): Promise<KeyOutcome> {
  if (row.status === 'connected') return { apiKey: await revealKey(deps, row) };
  let inFlight = retestsInFlight.get(deps);
  if (!inFlight) retestsInFlight.set(deps, (inFlight = new Map()));
  let outcome = inFlight.get(row.id);
  if (!outcome) {
    outcome = retestIfDue(deps, row).finally(() => inFlight.delete(row.id));
    inFlight.set(row.id, outcome);
  }
  return outcome;
}

async function retestIfDue(deps: AppDeps, row: StoredIntegration): Promise<KeyOutcome> {
  const now = new Date();
  const claimed = await deps.prisma.integration.updateMany({
    where: {
      id: row.id,
      status: { not: 'connected' },
      OR: [{ lastTested: null }, { lastTested: { lte: new Date(now.getTime() - RETEST_INTERVAL_MS) } }],
    },
    data: { lastTested: now },
  });
  if (claimed.count === 0) {
    // Tested within the interval, or connected meanwhile: the row as it stands decides.
    const current = await deps.prisma.integration.findUnique({ where: { id: row.id }, select: { id: true, apiKey: true, status: true, errorMessage: true } });
    if (current?.status === 'connected') return { apiKey: await revealKey(deps, current) };
    return { apiKey: null, errorMessage: current?.errorMessage ?? 'never tested' };
  }
  const apiKey = await revealKeyToTest(deps, row);
  if (apiKey === null) return { apiKey: null, errorMessage: DECRYPTION_FAILED };
  const tested = await testKey(deps, row.provider as ProviderName, apiKey);
  await deps.prisma.integration.updateMany({ where: { id: row.id }, data: tested });
  return tested.status === 'connected' ? { apiKey } : { apiKey: null, errorMessage: tested.errorMessage ?? 'unknown error' };
}
