/**
 * Auth rate limits on Redis (the local one, through a TCP proxy the test can cut, with a key
 * prefix of this run's own). When Redis refuses or stops answering, login still answers promptly
 * — never a 500, never a hang — and the limits still hold, counted by this instance alone; once
 * Redis is back the counters are shared again.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_COMMAND_TIMEOUT_MS, REDIS_RETRY_AFTER_MS } from '../../src/http/middleware/rate-limit.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { sleep, startTcpProxy, type TcpProxy, waitFor } from '../support/processes.js';

const PER_EMAIL = 3;

describe('rate limits when Redis fails', () => {
  let proxy: TcpProxy;
  let app: TestApp;
  let redis: Redis;
  const prefix = `chimera-test-${randomBytes(4).toString('hex')}:`;

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
    redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
    await redis.connect();
    app = await startTestApp('pglite', {
      REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
      REDIS_KEY_PREFIX: prefix,
      AUTH_RATE_LIMIT_PER_EMAIL: String(PER_EMAIL),
      AUTH_RATE_LIMIT_PER_IP: '1000',
    });
  });

  afterAll(async () => {
    proxy.restore();
    await app?.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await proxy.close();
  });

  const attempts = async (email: string, n: number) => {
    const out: { status: number; ms: number }[] = [];
    for (let i = 0; i < n; i++) {
      const started = performance.now();
      const res = await app.http.post('/api/auth/login').send({ email, password: 'wrong password' });
      out.push({ status: res.status, ms: performance.now() - started });
    }
    return out;
  };
  const email = (label: string) => `${label}-${randomBytes(4).toString('hex')}@example.test`;
  /** The failure counters of an account: per account and client address, and per account. */
  const redisKeysFor = async (address: string) => (await redis.keys(`${prefix}*`)).filter((k) => k.includes(address));

  it('counts in Redis while it answers', async () => {
    const address = email('shared');
    expect((await attempts(address, PER_EMAIL + 1)).map((r) => r.status)).toEqual([401, 401, 401, 429]);
    expect((await redisKeysFor(address)).sort()).toEqual([`${prefix}rl:login:account-ip:${address} 127.0.0.1`, `${prefix}rl:login:account:${address}`]);
  });

  /** Waits out the fallback period and until a login is counted in Redis again. */
  const sharedAgain = async () => {
    await sleep(REDIS_RETRY_AFTER_MS + 200);
    const address = email('back');
    await waitFor('a counter in Redis again', async () => {
      await attempts(address, 1);
      return (await redisKeysFor(address)).length === 2;
    }, 15_000, 300);
  };

  for (const mode of ['refuse', 'blackhole'] as const) {
    it(`Redis ${mode === 'refuse' ? 'refusing connections' : 'not answering'}: prompt answers, limits held per instance`, async () => {
      await sharedAgain();
      const logged = app.logs.length;
      proxy.cut(mode);
      try {
        const address = email(mode);
        const results = await attempts(address, PER_EMAIL + 1);
        expect(results.map((r) => r.status)).toEqual([401, 401, 401, 429]);
        // At most one command deadline per limiter, then Redis is skipped for a while.
        expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(2 * REDIS_COMMAND_TIMEOUT_MS + 1500);
        expect(app.logs.slice(logged).some((l) => l.includes('rate-limit store (Redis) unavailable; counting per instance'))).toBe(true);
      } finally {
        proxy.restore();
      }
    });
  }

  it('goes back to the shared counters once Redis answers again', async () => {
    await sharedAgain();
    expect(app.logs.some((l) => l.includes('rate-limit store (Redis) reachable again'))).toBe(true);
  });
});
