/**
 * Rate limits for login and register (D9). Register: per client address and per email.
 * Password checks (login, and the current password wherever a route asks for it) count
 * failures only, and never lock an account: per client address, per account and address
 * (429 past the cap), and per account across addresses, where attempts past the cap are slowed
 * down (up to a maximum delay) instead of refused, so the owner still gets in.
 * Counters live in memory by default, in Redis when REDIS_URL is set, so limits hold
 * across several server instances. When Redis fails or stops answering, each instance
 * counts on its own (the limits still hold per instance) instead of failing or hanging the
 * request, and goes back to Redis a moment later.
 */
import { createRequire } from 'node:module';
import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, MemoryStore, type Options, rateLimit, type Store } from 'express-rate-limit';
import type { Redis as RedisClient } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisStore as RedisStoreClass } from 'rate-limit-redis';
import { failure, sendEnvelope } from '../envelope.js';

export interface RateLimitStoreFactory {
  /** A store for one limiter; `prefix` keeps limiters apart. Undefined → in-memory store. */
  create(prefix: string): Store | undefined;
  close(): Promise<void>;
}

/** How long one Redis command may take before this request counts locally. */
export const REDIS_COMMAND_TIMEOUT_MS = 1000;
/** After a Redis failure, how long requests count locally before Redis is tried again. */
export const REDIS_RETRY_AFTER_MS = 2000;

/** Shared by the stores of one factory: whether Redis is usable right now. */
class RedisCircuit {
  private retryAt = 0;
  private degraded = false;

  constructor(private readonly logger: Pick<Logger, 'warn' | 'info'> | undefined) {}

  get open(): boolean {
    return Date.now() < this.retryAt;
  }

  failed(error: unknown): void {
    this.retryAt = Date.now() + REDIS_RETRY_AFTER_MS;
    if (!this.degraded) this.logger?.warn({ err: error }, 'rate-limit store (Redis) unavailable; counting per instance');
    this.degraded = true;
  }

  succeeded(): void {
    if (this.degraded) this.logger?.info('rate-limit store (Redis) reachable again');
    this.degraded = false;
  }
}

function within<T>(promise: Promise<T> | T, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms);
    Promise.resolve(promise).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Redis counters, with this instance's own counters whenever Redis fails or is slow. */
class FallbackStore implements Store {
  readonly localKeys = false;
  readonly prefix?: string;
  private readonly local = new MemoryStore();

  constructor(
    private readonly remote: RedisStoreClass,
    private readonly circuit: RedisCircuit,
  ) {
    this.prefix = remote.prefix;
  }

  private options: Options | undefined;
  /** The Redis store loads its Lua scripts in init(); after a failure they are loaded again. */
  private initialised: Promise<void> | null = null;

  init(options: Options): void {
    this.options = options;
    this.local.init(options);
    this.initialised = Promise.resolve(this.remote.init(options));
    this.initialised.catch(() => {
      this.initialised = null;
    });
  }

  private async either<T>(remote: () => Promise<T>, local: () => T | Promise<T>): Promise<T> {
    if (this.circuit.open) return local();
    try {
      const value = await within(
        (async () => {
          if (!this.initialised && this.options) this.initialised = Promise.resolve(this.remote.init(this.options));
          await this.initialised;
          return remote();
        })(),
        REDIS_COMMAND_TIMEOUT_MS,
      );
      this.circuit.succeeded();
      return value;
    } catch (error) {
      this.initialised = null; // scripts may be gone with the server that failed
      this.circuit.failed(error);
      return local();
    }
  }

  increment(key: string) {
    return this.either(() => this.remote.increment(key), () => this.local.increment(key));
  }

  decrement(key: string) {
    return this.either(() => this.remote.decrement(key), () => this.local.decrement(key));
  }

  async resetKey(key: string) {
    await Promise.allSettled([this.either(() => this.remote.resetKey(key), () => undefined), this.local.resetKey(key)]);
  }

  shutdown(): void {
    this.local.shutdown();
  }
}

export function createRateLimitStoreFactory(redisUrl: string | null, keyPrefix = 'chimera:', logger?: Pick<Logger, 'warn' | 'info'>): RateLimitStoreFactory {
  if (!redisUrl) return { create: () => undefined, close: async () => {} };
  // Loaded only when configured: the Redis client is a noticeable part of start-up otherwise.
  const require = createRequire(import.meta.url);
  const { Redis } = require('ioredis') as { Redis: typeof RedisClient };
  const { RedisStore } = require('rate-limit-redis') as { RedisStore: typeof RedisStoreClass };
  const client = new Redis(redisUrl, {
    lazyConnect: false,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
  });
  client.on('error', () => {}); // reported through the fallback's log line, not crashes
  const circuit = new RedisCircuit(logger);
  const stores: FallbackStore[] = [];
  return {
    create: (prefix) => {
      const store = new FallbackStore(
        new RedisStore({
          prefix: `${keyPrefix}rl:${prefix}:`,
          sendCommand: (command: string, ...args: string[]) => client.call(command, ...args) as never,
        }),
        circuit,
      );
      stores.push(store);
      return store;
    },
    close: async () => {
      stores.forEach((s) => s.shutdown());
      client.disconnect();
    },
  };
}

const MESSAGE = 'Too many attempts. Please try again later.';

export interface AuthRateLimitOptions {
  windowMs: number;
  perIp: number;
  perEmail: number;
  maxDelayMs: number;
}

const common = (options: AuthRateLimitOptions) => ({
  windowMs: options.windowMs,
  standardHeaders: 'draft-7' as const,
  legacyHeaders: false,
  handler: (_req: Request, res: Response) => {
    sendEnvelope(res, 429, failure(MESSAGE));
  },
});

const addressOf = (req: Request) => ipKeyGenerator(req.ip ?? 'unknown');

/** Register: every attempt counts, per client address and per email. */
export function authRateLimits(factory: RateLimitStoreFactory, name: string, options: AuthRateLimitOptions): RequestHandler[] {
  const byIp = rateLimit({
    ...common(options),
    limit: options.perIp,
    store: factory.create(`${name}:ip`),
    keyGenerator: addressOf,
  });
  const byEmail = rateLimit({
    ...common(options),
    limit: options.perEmail,
    store: factory.create(`${name}:email`),
    keyGenerator: (req) => {
      const email = (req.body as { email?: unknown } | undefined)?.email;
      return typeof email === 'string' ? email.trim().toLowerCase() : `ip:${addressOf(req)}`;
    },
  });
  return [byIp, byEmail];
}

/** The first delay once an account's failures from all addresses reach the cap; it doubles with each further failure. */
export const FIRST_DELAY_MS = 250;

/** How long an attempt on an account waits, given the failures already counted against it. */
export function delayAfter(failures: number, options: Pick<AuthRateLimitOptions, 'perEmail' | 'maxDelayMs'>): number {
  if (failures < options.perEmail) return 0;
  return Math.min(options.maxDelayMs, FIRST_DELAY_MS * 2 ** Math.min(failures - options.perEmail, 20));
}

/** The account a password check is about: the caller's (current password) or the login email. */
function accountOf(req: Request, res: Response): string {
  const user = res.locals.user as { email: string } | undefined;
  if (user) return user.email;
  const email = (req.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' ? email.trim().toLowerCase() : '';
}

/** Only requests that present a password are guesses (a body without one fails validation, cheaply). */
const presentsNoPassword = (req: Request) => {
  const body = req.body as { password?: unknown; currentPassword?: unknown } | undefined;
  return typeof body?.password !== 'string' && typeof body?.currentPassword !== 'string';
};

const guessLimits = new WeakMap<RateLimitStoreFactory, RequestHandler[]>();

/**
 * Limits on password guesses, shared by every route that checks a password (one set of
 * counters per store factory, so a failure anywhere counts everywhere). A success is not
 * counted; a failure is counted from the moment it arrives, so parallel guesses count too.
 */
export function passwordGuessLimits(factory: RateLimitStoreFactory, options: AuthRateLimitOptions): RequestHandler[] {
  const known = guessLimits.get(factory);
  if (known) return known;
  const failuresOnly = { ...common(options), skip: presentsNoPassword, skipSuccessfulRequests: true };
  const byIp = rateLimit({ ...failuresOnly, limit: options.perIp, store: factory.create('login:ip'), keyGenerator: addressOf });
  const byAccountAndAddress = rateLimit({
    ...failuresOnly,
    limit: options.perEmail,
    store: factory.create('login:account-ip'),
    keyGenerator: (req, res) => `${accountOf(req, res)} ${addressOf(req)}`,
  });
  // Never refuses (no limit): counts the account's failures from every address for the delay below.
  const byAccount = rateLimit({
    ...failuresOnly,
    standardHeaders: false,
    limit: Number.MAX_SAFE_INTEGER,
    requestPropertyName: 'accountFailures',
    store: factory.create('login:account'),
    keyGenerator: accountOf,
  });
  const slowDown: RequestHandler = (req, _res, next) => {
    const counted = (req as Request & { accountFailures?: { used: number } }).accountFailures;
    const wait = counted ? delayAfter(counted.used - 1, options) : 0;
    if (wait === 0) return next();
    setTimeout(next, wait);
  };
  const limits = [byIp, byAccountAndAddress, byAccount, slowDown];
  guessLimits.set(factory, limits);
  return limits;
}

/**
 * Counts requests per key (an API key's id) in fixed windows, in the same stores as the other
 * limits (shared through Redis when configured): the seconds to wait once a key is past
 * `limit` in the current window, else null.
 */
export function requestCounter(factory: RateLimitStoreFactory, name: string, options: { windowMs: number; limit: number }): (key: string) => Promise<number | null> {
  const store = factory.create(name) ?? new MemoryStore();
  // The stores read only the window from express-rate-limit's options.
  void store.init?.({ windowMs: options.windowMs } as Options);
  return async (key) => {
    const { totalHits, resetTime } = await store.increment(key);
    if (totalHits <= options.limit) return null;
    return Math.max(1, Math.ceil(((resetTime?.getTime() ?? Date.now() + options.windowMs) - Date.now()) / 1000));
  };
}
