/**
 * The one place that reads the environment. Parsed with zod, frozen, passed down explicitly.
 * In development, missing secrets are generated once and kept in DATA_DIR/secrets.json;
 * in production missing secrets stop the start (a default secret would be an auth bypass).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';

const duration = z
  .string()
  .regex(/^\d+\s*(ms|s|m|h|d)?$/, 'a duration such as 900s, 15m, 24h or 7d')
  .transform(parseDuration);

export function parseDuration(text: string): number {
  const m = /^(\d+)\s*(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new Error(`Invalid duration: ${text}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 'ms'];
  return Number(m[1]) * unit;
}

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

/** The vendors the server speaks to natively; an OpenAI-compatible provider may not take one of their names. */
export const BUILT_IN_PROVIDERS = ['openai', 'anthropic', 'google', 'deepseek', 'groq'] as const;
/** Also taken: `echo` answers model ids nobody serves, `local` is a name the original code reserved. */
const RESERVED_PROVIDER_NAMES: readonly string[] = [...BUILT_IN_PROVIDERS, 'echo', 'local'];
/** A provider id: what the API names it by, stored in a 20-character column. */
export const PROVIDER_ID = /^[a-z][a-z0-9_-]{0,19}$/;

/**
 * OPENAI_COMPATIBLE_PROVIDERS: `name=baseUrl` pairs, comma-separated. Every mistake is reported
 * at start, naming the entry, so a typo never becomes a provider nobody can reach.
 */
const compatibleProviders = z.string().transform((text, ctx) => {
  const providers: CompatibleProvider[] = [];
  for (const entry of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const at = entry.indexOf('=');
    const name = at < 0 ? entry : entry.slice(0, at).trim();
    const url = at < 0 ? '' : entry.slice(at + 1).trim();
    let problem: string | null = null;
    if (at < 0 || !url) problem = `"${entry}" is not a name=baseUrl pair (e.g. ollama=http://127.0.0.1:11434/v1)`;
    else if (!PROVIDER_ID.test(name)) problem = `"${name}" is not a provider name: a lowercase letter, then lowercase letters, digits, - or _, at most 20 characters`;
    else if (RESERVED_PROVIDER_NAMES.includes(name)) problem = `"${name}" is the name of a built-in provider; choose another`;
    else if (providers.some((p) => p.name === name)) problem = `"${name}" is declared twice`;
    else {
      let parsed: URL | null = null;
      try {
        parsed = new URL(url);
      } catch {
        /* reported below */
      }
      if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) problem = `the base URL of "${name}" must be an http:// or https:// URL (got "${url}")`;
      else if (parsed.username || parsed.password) problem = `the base URL of "${name}" must not carry credentials; a key belongs in the user's integration`;
      else providers.push({ name, baseUrl: url.replace(/\/+$/, '') });
    }
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }
  return providers;
});

const DEFAULT_CORS_ORIGINS =
  'http://localhost:5173,http://127.0.0.1:5173,http://localhost:3000,http://127.0.0.1:3000,https://chimera-protocol.netlify.app,https://chimera-six.vercel.app';

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  DATA_DIR: z.string().default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
    .optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  DATABASE_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  ENCRYPTION_KEY: z.string().optional(),
  ENCRYPTION_KEY_PREVIOUS: z.string().optional(),
  ACCESS_TOKEN_TTL: duration.default(parseDuration('24h')),
  REFRESH_TOKEN_TTL: duration.default(parseDuration('7d')),
  // At least 10 (checked below); lower costs exist for the test suite only.
  BCRYPT_COST: z.coerce.number().int().min(4).max(15).default(12),
  CORS_ORIGINS: z.string().default(DEFAULT_CORS_ORIGINS),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT: z.string().default('1mb'),
  REDIS_URL: z.string().optional(),
  /** Prefix of every key this server writes to Redis (several deployments or test runs can share one Redis). */
  REDIS_KEY_PREFIX: z.string().max(100).default('chimera:'),
  AUTH_RATE_LIMIT_WINDOW: duration.default(parseDuration('15m')),
  AUTH_RATE_LIMIT_PER_IP: z.coerce.number().int().min(1).default(100),
  AUTH_RATE_LIMIT_PER_EMAIL: z.coerce.number().int().min(1).default(10),
  AUTH_RATE_LIMIT_MAX_DELAY: duration.default(parseDuration('10s')),
  API_KEY_RATE_LIMIT: z.coerce.number().int().min(1).default(600),
  API_KEY_RATE_LIMIT_WINDOW: duration.default(parseDuration('1m')),
  /** How long after a password sign-in the email may be changed without the current password. */
  REAUTH_WINDOW: duration.default(parseDuration('15m')),
  /** Host names (besides HOST and the loopback names) by which clients reach this server; /mcp refuses others. */
  PUBLIC_HOSTS: z.string().default(''),
  TRUST_PROXY: z.string().default('loopback'),
  SHUTDOWN_GRACE: duration.default(parseDuration('10s')),
  ENABLE_DOCS: bool.default(true),
  // LLM providers (D11): base URLs (tests and demos point them at local fakes), default models, timeouts.
  OPENAI_BASE_URL: z.url().default('https://api.openai.com/v1'),
  ANTHROPIC_BASE_URL: z.url().default('https://api.anthropic.com'),
  GOOGLE_BASE_URL: z.url().default('https://generativelanguage.googleapis.com'),
  DEEPSEEK_BASE_URL: z.url().default('https://api.deepseek.com'),
  GROQ_BASE_URL: z.url().default('https://api.groq.com/openai/v1'),
  OPENAI_DEFAULT_MODEL: z.string().min(1).max(44).default('gpt-4o'),
  ANTHROPIC_DEFAULT_MODEL: z.string().min(1).max(44).default('claude-3.5-sonnet'),
  GOOGLE_DEFAULT_MODEL: z.string().min(1).max(44).default('gemini-2.0-flash'),
  DEEPSEEK_DEFAULT_MODEL: z.string().min(1).max(44).default('deepseek-chat'),
  GROQ_DEFAULT_MODEL: z.string().min(1).max(44).default('llama-3.3-70b-versatile'),
  OPENAI_COMPATIBLE_PROVIDERS: compatibleProviders.default([]),
  /** How long a provider's model list is kept, and how long listing it may take. */
  OPENAI_COMPATIBLE_MODELS_TTL: duration.default(parseDuration('5m')),
  OPENAI_COMPATIBLE_MODELS_TIMEOUT: duration.default(parseDuration('3s')),
  LLM_TIMEOUT: duration.default(parseDuration('60s')),
  LLM_MAX_TOKENS: z.coerce.number().int().min(1).max(200_000).default(2000),
  INTEGRATION_TEST_TIMEOUT: duration.default(parseDuration('10s')),
  /** Characters of injected and retrieved memories allowed into one prompt (D11 budget). */
  CONTEXT_MEMORY_CHARS: z.coerce.number().int().min(500).max(1_000_000).default(12_000),
  RETRIEVAL_TOP_K: z.coerce.number().int().min(1).max(20).default(5),
  URL_IMPORT_ALLOW_HOSTS: z.string().default(''),
  URL_IMPORT_TIMEOUT: duration.default(parseDuration('10s')),
  URL_IMPORT_MAX_BYTES: z.coerce.number().int().min(1024).default(5 * 1024 * 1024),
  CHROMIUM_PATH: z.string().optional(),
  // Document parsing (file and URL import) in child processes: how many, their deadline and heap, and the document limits.
  IMPORT_WORKERS: z.coerce.number().int().min(1).max(32).default(2),
  IMPORT_QUEUE_LIMIT: z.coerce.number().int().min(0).max(1000).default(8),
  IMPORT_PARSE_TIMEOUT: duration.default(parseDuration('15s')),
  IMPORT_WORKER_MEMORY_MB: z.coerce.number().int().min(32).max(65_536).default(512),
  IMPORT_MAX_INFLATED_BYTES: z.coerce.number().int().min(1024).default(64 * 1024 * 1024),
  IMPORT_MAX_ELEMENTS: z.coerce.number().int().min(100).default(500_000),
  IMPORT_MAX_DEPTH: z.coerce.number().int().min(8).max(100_000).default(256),
  RETENTION_SWEEP_INTERVAL: duration.default(parseDuration('1h')),
  EMBEDDING_MODEL_DIR: z.string().optional(),
  EMBEDDING_MODEL: z.string().min(1).default('Xenova/all-MiniLM-L6-v2'),
  EMBEDDING_ALLOW_DOWNLOAD: bool.default(false),
  EMBEDDING_BATCH_SIZE: z.coerce.number().int().min(1).max(256).default(32),
  EMBEDDING_CHUNK_TOKENS: z.coerce.number().int().min(16).max(512).default(256),
  EMBEDDING_CHUNK_OVERLAP: z.coerce.number().int().min(0).max(256).default(32),
  EMBEDDING_POLL_INTERVAL: duration.default(parseDuration('5s')),
  EMBEDDING_THREADS: z.coerce.number().int().min(1).max(64).optional(),
  SEARCH_MIN_SIMILARITY: z.coerce.number().min(-1).max(1).default(0.2),
  /** Megabytes of memory-chunk vectors each process keeps in memory (the `memory` vector backend). */
  VECTOR_CACHE_MB: z.coerce.number().int().min(1).max(65_536).default(256),
  MEMORY_LIST_CACHE_MB: z.coerce.number().int().min(0).max(65_536).default(64),
  /** memory: exact scan in this process; pgvector: HNSW index in the database; auto: see README. */
  VECTOR_BACKEND: z.enum(['auto', 'memory', 'pgvector']).default('auto'),
});

export type Env = z.input<typeof schema>;

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  dataDir: string;
  database: { kind: 'pglite'; dir: string | null } | { kind: 'postgres'; url: string };
  databasePoolSize: number;
  databaseTimeoutMs: number;
  jwtSecret: string;
  /** Encryption keys by version; the highest version encrypts, all decrypt. */
  encryptionKeys: { version: number; key: Buffer }[];
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  bcryptCost: number;
  /** How recent a password sign-in must be to change the email without the current password. */
  reauthWindowMs: number;
  corsOrigins: string[] | '*';
  logLevel: string;
  bodyLimit: string;
  redisUrl: string | null;
  redisKeyPrefix: string;
  /**
   * Register: attempts per client address (`perIp`) and per email (`perEmail`). Password checks:
   * failures per client address (`perIp`) and per account and address (`perEmail`), then 429;
   * failures per account from every address slow it down from `perEmail` on, up to `maxDelayMs`.
   */
  authRateLimit: { windowMs: number; perIp: number; perEmail: number; maxDelayMs: number };
  /** Requests one API key may make per window, across instances when Redis is configured. */
  apiKeyRateLimit: { windowMs: number; limit: number };
  trustProxy: string;
  /** Host names this server answers to, without ports (the /mcp DNS-rebinding check). */
  publicHosts: string[];
  shutdownGraceMs: number;
  enableDocs: boolean;
  llm: LlmConfig;
  /** URL import (D15): hosts exempt from the SSRF address check, limits, optional Chromium. */
  urlImport: { allowHosts: string[]; timeoutMs: number; maxBytes: number; chromiumPath: string | null };
  /** Document parsing in child processes (file and URL import): pool size, deadline, heap, document limits. */
  imports: {
    workers: number;
    queueLimit: number;
    parseTimeoutMs: number;
    workerMemoryMb: number;
    limits: { maxInflatedBytes: number; maxElements: number; maxDepth: number };
  };
  /** How often the scheduled retention cleanup (D18) runs. */
  retentionSweepIntervalMs: number;
  embeddings: {
    modelDir: string;
    model: string;
    allowDownload: boolean;
    batchSize: number;
    chunkTokens: number;
    chunkOverlap: number;
    /** How often the backlog sweeper looks for pending memories written by anyone. */
    pollIntervalMs: number;
    /** Inference threads (default: all cores but one, at least one). */
    threads: number;
  };
  /** Semantic hits below this cosine similarity are not search results. */
  searchMinSimilarity: number;
  /** VECTOR_CACHE_MB: the in-memory vector index's budget, least recently used workspaces evicted first. */
  vectorCacheMb: number;
  /** MEMORY_LIST_CACHE_MB: compressed pieces of whole memory lists kept between polls (0: none), least recently used evicted first. */
  memoryListCacheMb: number;
  /** VECTOR_BACKEND. */
  vectorBackend: 'auto' | 'memory' | 'pgvector';
  version: string;
}

export type ProviderName = (typeof BUILT_IN_PROVIDERS)[number];

/** A provider the operator declared in OPENAI_COMPATIBLE_PROVIDERS (a self-hosted server, another vendor). */
export interface CompatibleProvider {
  /** Its id in the API (integrations, /models/available, model ids `model-<name>/<model>`). */
  name: string;
  /** Without a trailing slash; set by the operator only, never by a user. */
  baseUrl: string;
}

export interface LlmConfig {
  baseUrls: Record<ProviderName, string>;
  /** Model used when an integration names none (shown by /models/available). */
  defaultModels: Record<ProviderName, string>;
  /** In declaration order. */
  compatibleProviders: readonly CompatibleProvider[];
  /** How long a compatible provider's model list is kept (a failure: at most 30 s), and the deadline of listing it. */
  modelListTtlMs: number;
  modelListTimeoutMs: number;
  timeoutMs: number;
  maxTokens: number;
  connectionTestTimeoutMs: number;
  contextMemoryChars: number;
  retrievalTopK: number;
}

export class ConfigError extends Error {}

/** The least bcrypt cost a server may run with; the test suite may go lower to stay fast. */
export const MIN_BCRYPT_COST = 10;

/** Host names that always reach this server, plus HOST unless it is a wildcard address. */
function ownHosts(host: string, extra: string[]): string[] {
  const names = ['localhost', '127.0.0.1', '[::1]'];
  if (host !== '0.0.0.0' && host !== '::') names.push(host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);
  for (const entry of extra) {
    // "api.example.com", "api.example.com:8443" or a URL: the host name is what counts.
    let name = '';
    try {
      name = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(entry) ? entry : `http://${entry}`).hostname;
    } catch {
      /* reported below */
    }
    if (!name) throw new ConfigError(`Invalid configuration:\n  PUBLIC_HOSTS: "${entry}" is not a host name`);
    names.push(name);
  }
  return [...new Set(names.map((n) => n.toLowerCase()))];
}

/** Accepts a 32-byte key as base64, base64url or 64 hex characters. */
export function decodeKey(text: string, name: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new ConfigError(`${name} must be 32 bytes (base64 or 64 hex characters).`);
  return key;
}

function loadDevSecrets(dataDir: string): { jwtSecret: string; encryptionKey: string } {
  const file = resolve(dataDir, 'secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  mkdirSync(dataDir, { recursive: true });
  const secrets = { jwtSecret: randomBytes(48).toString('base64url'), encryptionKey: randomBytes(32).toString('base64') };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
  return secrets;
}

export function loadConfig(source: Record<string, string | undefined> = process.env, version = '1.0.0'): Config {
  // Empty variables (KEY= in a .env file) mean "not set".
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.BCRYPT_COST < MIN_BCRYPT_COST && e.NODE_ENV !== 'test') {
    throw new ConfigError(
      `Invalid configuration:\n  BCRYPT_COST: must be at least ${MIN_BCRYPT_COST} (got ${e.BCRYPT_COST}); a lower cost makes stolen password hashes cheap to crack. Lower values are accepted only with NODE_ENV=test.`,
    );
  }
  const dataDir = resolve(e.DATA_DIR);
  let jwtSecret = e.JWT_SECRET;
  let encryptionKey = e.ENCRYPTION_KEY;
  if (!jwtSecret || !encryptionKey) {
    if (e.NODE_ENV === 'production') {
      const missing = [!jwtSecret && 'JWT_SECRET', !encryptionKey && 'ENCRYPTION_KEY'].filter(Boolean).join(' and ');
      throw new ConfigError(
        `Refusing to start in production without ${missing}. Set JWT_SECRET (at least 32 random characters) and ENCRYPTION_KEY (32 bytes, base64), e.g. \`openssl rand -base64 48\` and \`openssl rand -base64 32\`.`,
      );
    }
    const dev = loadDevSecrets(dataDir);
    jwtSecret ??= dev.jwtSecret;
    encryptionKey ??= dev.encryptionKey;
  }
  const current = decodeKey(encryptionKey, 'ENCRYPTION_KEY');
  const encryptionKeys = [{ version: 1, key: current }];
  if (e.ENCRYPTION_KEY_PREVIOUS) {
    // The previous key keeps version 1; the current one becomes version 2.
    encryptionKeys[0] = { version: 2, key: current };
    encryptionKeys.push({ version: 1, key: decodeKey(e.ENCRYPTION_KEY_PREVIOUS, 'ENCRYPTION_KEY_PREVIOUS') });
  }
  const origins = e.CORS_ORIGINS.trim() === '*' ? '*' : list.parse(e.CORS_ORIGINS);
  return Object.freeze({
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    dataDir,
    database: e.DATABASE_URL
      ? { kind: 'postgres' as const, url: e.DATABASE_URL }
      : { kind: 'pglite' as const, dir: resolve(dataDir, 'pglite') },
    databasePoolSize: e.DATABASE_POOL_SIZE,
    databaseTimeoutMs: e.DATABASE_TIMEOUT_MS,
    jwtSecret,
    encryptionKeys,
    accessTokenTtlMs: e.ACCESS_TOKEN_TTL,
    refreshTokenTtlMs: e.REFRESH_TOKEN_TTL,
    bcryptCost: e.BCRYPT_COST,
    reauthWindowMs: e.REAUTH_WINDOW,
    corsOrigins: origins,
    logLevel: e.LOG_LEVEL,
    bodyLimit: e.BODY_LIMIT,
    redisUrl: e.REDIS_URL ?? null,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    authRateLimit: { windowMs: e.AUTH_RATE_LIMIT_WINDOW, perIp: e.AUTH_RATE_LIMIT_PER_IP, perEmail: e.AUTH_RATE_LIMIT_PER_EMAIL, maxDelayMs: e.AUTH_RATE_LIMIT_MAX_DELAY },
    apiKeyRateLimit: { windowMs: e.API_KEY_RATE_LIMIT_WINDOW, limit: e.API_KEY_RATE_LIMIT },
    trustProxy: e.TRUST_PROXY,
    publicHosts: ownHosts(e.HOST, list.parse(e.PUBLIC_HOSTS)),
    shutdownGraceMs: e.SHUTDOWN_GRACE,
    enableDocs: e.ENABLE_DOCS,
    llm: {
      baseUrls: {
        openai: e.OPENAI_BASE_URL,
        anthropic: e.ANTHROPIC_BASE_URL,
        google: e.GOOGLE_BASE_URL,
        deepseek: e.DEEPSEEK_BASE_URL,
        groq: e.GROQ_BASE_URL,
      },
      defaultModels: {
        openai: e.OPENAI_DEFAULT_MODEL,
        anthropic: e.ANTHROPIC_DEFAULT_MODEL,
        google: e.GOOGLE_DEFAULT_MODEL,
        deepseek: e.DEEPSEEK_DEFAULT_MODEL,
        groq: e.GROQ_DEFAULT_MODEL,
      },
      compatibleProviders: Object.freeze(e.OPENAI_COMPATIBLE_PROVIDERS.map((p) => Object.freeze(p))),
      modelListTtlMs: e.OPENAI_COMPATIBLE_MODELS_TTL,
      modelListTimeoutMs: Math.max(1, e.OPENAI_COMPATIBLE_MODELS_TIMEOUT),
      timeoutMs: e.LLM_TIMEOUT,
      maxTokens: e.LLM_MAX_TOKENS,
      connectionTestTimeoutMs: e.INTEGRATION_TEST_TIMEOUT,
      contextMemoryChars: e.CONTEXT_MEMORY_CHARS,
      retrievalTopK: e.RETRIEVAL_TOP_K,
    },
    urlImport: {
      allowHosts: list.parse(e.URL_IMPORT_ALLOW_HOSTS),
      timeoutMs: e.URL_IMPORT_TIMEOUT,
      maxBytes: e.URL_IMPORT_MAX_BYTES,
      chromiumPath: e.CHROMIUM_PATH ?? null,
    },
    imports: {
      workers: e.IMPORT_WORKERS,
      queueLimit: e.IMPORT_QUEUE_LIMIT,
      parseTimeoutMs: Math.max(1, e.IMPORT_PARSE_TIMEOUT),
      workerMemoryMb: e.IMPORT_WORKER_MEMORY_MB,
      limits: { maxInflatedBytes: e.IMPORT_MAX_INFLATED_BYTES, maxElements: e.IMPORT_MAX_ELEMENTS, maxDepth: e.IMPORT_MAX_DEPTH },
    },
    retentionSweepIntervalMs: e.RETENTION_SWEEP_INTERVAL,
    embeddings: Object.freeze({
      modelDir: resolve(e.EMBEDDING_MODEL_DIR ?? resolve(dataDir, 'models')),
      model: e.EMBEDDING_MODEL,
      allowDownload: e.EMBEDDING_ALLOW_DOWNLOAD,
      batchSize: e.EMBEDDING_BATCH_SIZE,
      chunkTokens: e.EMBEDDING_CHUNK_TOKENS,
      chunkOverlap: e.EMBEDDING_CHUNK_OVERLAP,
      pollIntervalMs: e.EMBEDDING_POLL_INTERVAL,
      threads: e.EMBEDDING_THREADS ?? Math.max(1, availableParallelism() - 1),
    }),
    searchMinSimilarity: e.SEARCH_MIN_SIMILARITY,
    vectorCacheMb: e.VECTOR_CACHE_MB,
    memoryListCacheMb: e.MEMORY_LIST_CACHE_MB,
    vectorBackend: e.VECTOR_BACKEND,
    version,
  });
}
