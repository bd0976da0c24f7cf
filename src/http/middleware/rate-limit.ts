/**
 * Rate limits for login and register (D9): per client IP and per email address.
 * Counters live in memory by default, in Redis when REDIS_URL is set, so limits hold
 * across several server instances.
 */
import { createRequire } from 'node:module';
import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type Store } from 'express-rate-limit';
import type { Redis as RedisClient } from 'ioredis';
import type { RedisStore as RedisStoreClass } from 'rate-limit-redis';
import { failure } from '../envelope.js';

export interface RateLimitStoreFactory {
  /** A store for one limiter; `prefix` keeps limiters apart. Undefined → in-memory store. */
  create(prefix: string): Store | undefined;
  close(): Promise<void>;
}

export function createRateLimitStoreFactory(redisUrl: string | null): RateLimitStoreFactory {
  if (!redisUrl) return { create: () => undefined, close: async () => {} };
  // Loaded only when configured: the Redis client is a noticeable part of start-up otherwise.
  const require = createRequire(import.meta.url);
  const { Redis } = require('ioredis') as { Redis: typeof RedisClient };
  const { RedisStore } = require('rate-limit-redis') as { RedisStore: typeof RedisStoreClass };
  const client = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true });
  client.on('error', () => {}); // reported through failing requests, not crashes
  return {
    create: (prefix) =>
      new RedisStore({
        prefix: `chimera:rl:${prefix}:`,
        sendCommand: (command: string, ...args: string[]) => client.call(command, ...args) as never,
      }),
    close: async () => {
      client.disconnect();
    },
  };
}

const MESSAGE = 'Too many attempts. Please try again later.';

export function authRateLimits(
  factory: RateLimitStoreFactory,
  name: string,
  options: { windowMs: number; perIp: number; perEmail: number },
): RequestHandler[] {
  const common = {
    windowMs: options.windowMs,
    standardHeaders: 'draft-7' as const,
    legacyHeaders: false,
    handler: (_req: unknown, res: { status(n: number): { json(b: unknown): void } }) => {
      res.status(429).json(failure(MESSAGE));
    },
  };
  const byIp = rateLimit({
    ...common,
    limit: options.perIp,
    store: factory.create(`${name}:ip`),
    keyGenerator: (req) => ipKeyGenerator(req.ip ?? 'unknown'),
  });
  const byEmail = rateLimit({
    ...common,
    limit: options.perEmail,
    store: factory.create(`${name}:email`),
    keyGenerator: (req) => {
      const email = (req.body as { email?: unknown } | undefined)?.email;
      return typeof email === 'string' ? email.trim().toLowerCase() : `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`;
    },
  });
  return [byIp, byEmail];
}
