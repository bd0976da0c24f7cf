/**
 * The model lists of the providers declared in OPENAI_COMPATIBLE_PROVIDERS, as their `/models`
 * answers them. A list is kept for OPENAI_COMPATIBLE_MODELS_TTL (a failure for at most 30 s, so
 * a server that comes up is soon seen), a fetch is bounded by OPENAI_COMPATIBLE_MODELS_TIMEOUT
 * so a server that is down never holds up /models/available, and concurrent readers share one
 * fetch. Lists are per provider and key (a server with keys may list per key); keyless reads share one.
 */
import { createHash } from 'node:crypto';
import type { LlmConfig } from '../../config/env.js';
import { scrubKey } from './errors.js';
import { declaredProviderFor } from './index.js';

export interface ModelListing {
  status: 'available' | 'unavailable';
  /** Model ids as the server lists them; empty when unavailable. */
  models: string[];
  /** Why the list could not be had (§5.8's connection-test wording). */
  error: string | null;
  fetchedAt: Date;
}

/** How long a failed listing is remembered at most. */
export const FAILURE_TTL_MS = 30_000;
const CAPACITY = 256;

interface Entry {
  listing: Promise<ModelListing>;
  /** Infinity while the fetch runs. */
  expiresAt: number;
}

const caches = new WeakMap<LlmConfig, Map<string, Entry>>();

async function fetchListing(llm: LlmConfig, provider: string, apiKey: string): Promise<ModelListing> {
  const declared = declaredProviderFor(provider, llm);
  if (!declared) return { status: 'unavailable', models: [], error: `Unknown provider: ${provider}`, fetchedAt: new Date() };
  const listed = await declared.listModels(apiKey, llm.modelListTimeoutMs);
  return listed.ok
    ? { status: 'available', models: listed.models, error: null, fetchedAt: new Date() }
    : { status: 'unavailable', models: [], error: scrubKey(listed.error, apiKey), fetchedAt: new Date() };
}

/** The provider's models as listed with `apiKey` ('' for none); `refresh` fetches again unless a fetch is running. */
export function modelListing(llm: LlmConfig, provider: string, apiKey: string, options: { refresh?: boolean } = {}): Promise<ModelListing> {
  let cache = caches.get(llm);
  if (!cache) caches.set(llm, (cache = new Map()));
  const key = `${provider}\u0000${createHash('sha256').update(apiKey).digest('base64')}`;
  const known = cache.get(key);
  if (known && known.expiresAt > Date.now() && (!options.refresh || known.expiresAt === Infinity)) return known.listing;
  const entry = { expiresAt: Infinity } as Entry;
  entry.listing = fetchListing(llm, provider, apiKey).then((listing) => {
    entry.expiresAt = Date.now() + (listing.status === 'available' ? llm.modelListTtlMs : Math.min(llm.modelListTtlMs, FAILURE_TTL_MS));
    return listing;
  });
  cache.delete(key);
  if (cache.size >= CAPACITY) cache.delete(cache.keys().next().value!);
  cache.set(key, entry);
  return entry.listing;
}
