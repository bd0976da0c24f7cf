/**
 * The speed layer (src/fast/) behaves exactly like the library behaviour it replaces:
 * the one-pass security/CORS headers against helmet() + cors() in a row, the verified-token
 * cache against verifying every time (expiry, secret, token type, the verifier's own
 * refusals), and the JSON writer against Express's res.json (headers, ETag under every `etag`
 * setting, 304, HEAD). The shaped HTTP server and the providers' fetch have their own tests
 * (http-server.test.ts, provider-fetch.test.ts).
 */
import { once } from 'node:events';
import { type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import cors from 'cors';
import express from 'express';
import helmet from 'helmet';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/env.js';
import { sendSuccess, sendSuccessJson, success } from '../../src/http/envelope.js';
import { type CorsSettings, securityAndCorsHeaders } from '../../src/fast/security-headers.js';
import { VerifiedTokens } from '../../src/fast/verified-tokens.js';
import type { AppError } from '../../src/lib/errors.js';
import { bearerAuthenticator } from '../../src/services/auth/authenticate.js';
import { signToken, type TokenClaims } from '../../src/services/auth/tokens.js';
import { TEST_ENV } from '../support/app.js';

const HELMET: Parameters<typeof helmet>[0] = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  strictTransportSecurity: false,
  crossOriginResourcePolicy: { policy: 'cross-origin' },
};

function apps(origins: CorsSettings['origins']) {
  const settings: CorsSettings = {
    origins,
    methods: ['DELETE', 'GET', 'OPTIONS', 'PATCH', 'POST', 'PUT'],
    allowedHeaders: ['authorization', 'content-type'],
    exposedHeaders: ['ETag', 'X-Request-Id'],
    maxAgeSeconds: 86400,
  };
  const handler: express.RequestHandler = (_req, res) => void res.json({ ok: true });
  const reference = express().disable('x-powered-by');
  reference.use(helmet(HELMET));
  reference.use(
    cors({
      origin: origins === '*' ? true : origins,
      credentials: true,
      methods: settings.methods,
      allowedHeaders: settings.allowedHeaders,
      exposedHeaders: settings.exposedHeaders,
      maxAge: settings.maxAgeSeconds,
    }),
  );
  reference.all('/x', handler);
  const fast = express().disable('x-powered-by');
  fast.use(securityAndCorsHeaders(HELMET, settings));
  fast.all('/x', handler);
  return { reference, fast };
}

const comparable = (headers: Record<string, string>) => {
  const { date: _date, ...rest } = headers;
  return rest;
};

describe('security and CORS headers', () => {
  for (const origins of ['*', ['http://localhost:5173']] as const) {
    it(`match helmet + cors exactly (origins ${JSON.stringify(origins)})`, async () => {
      const { reference, fast } = apps(origins === '*' ? '*' : [...origins]);
      const cases: [string, Record<string, string>][] = [
        ['get', {}],
        ['get', { Origin: 'http://localhost:5173' }],
        ['get', { Origin: 'https://evil.example' }],
        ['post', { Origin: 'http://localhost:5173' }],
        ['options', { Origin: 'http://localhost:5173', 'Access-Control-Request-Method': 'POST' }],
        ['options', { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' }],
        ['options', {}],
      ];
      for (const [method, headers] of cases) {
        const a = await (request(reference) as any)[method]('/x').set(headers);
        const b = await (request(fast) as any)[method]('/x').set(headers);
        expect(b.status, `${method} ${JSON.stringify(headers)}`).toBe(a.status);
        expect(comparable(b.headers), `${method} ${JSON.stringify(headers)}`).toEqual(comparable(a.headers));
      }
    });
  }
});

describe('verified tokens', () => {
  afterEach(() => vi.useRealTimers());
  const config = loadConfig({ ...TEST_ENV, ACCESS_TOKEN_TTL: '60s' });
  /** The pipeline's cache in front of the real verifier, counting what reaches the verifier. */
  const cached = (verifyConfig = config, capacity?: number) => {
    // verify() runs no query: the authenticator's database is never reached here.
    const { verify } = bearerAuthenticator(verifyConfig, { query: () => Promise.reject(new Error('no query expected')) });
    const calls: string[] = [];
    const tokens = new VerifiedTokens<TokenClaims>((token) => (calls.push(token), verify(token) as TokenClaims), capacity);
    return { tokens, calls };
  };
  const refusal = (check: () => unknown) => {
    try {
      check();
    } catch (error) {
      const e = error as AppError;
      return { status: e.status, challenge: e.headers['WWW-Authenticate'] };
    }
    throw new Error('expected a refusal');
  };
  const user = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;

  it('answers a repeat from memory, and a remembered token still expires on time with the verifier\'s own 401', () => {
    vi.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z'), toFake: ['Date'] });
    const { tokens, calls } = cached();
    const { token } = signToken(config, 'access', user(1));
    expect(tokens.check(token).user_id).toBe(user(1));
    expect(tokens.check(token).user_id).toBe(user(1));
    expect(calls).toHaveLength(1);
    vi.setSystemTime(new Date('2030-01-01T00:00:59.999Z'));
    expect(tokens.check(token).user_id).toBe(user(1));
    vi.setSystemTime(new Date('2030-01-01T00:01:00Z'));
    const expired = refusal(() => tokens.check(token));
    expect(expired).toEqual(refusal(() => bearerAuthenticator(config, { query: () => Promise.reject(new Error('no query expected')) }).verify(token)));
    expect(expired).toEqual({ status: 401, challenge: expect.stringContaining('The access token expired') });
    expect(calls).toHaveLength(2);
  });

  it('refuses what the verifier refuses: another secret, a refresh token, a forged one; and remembers none of them', () => {
    const { tokens, calls } = cached();
    const other = loadConfig({ ...TEST_ENV, JWT_SECRET: 'another-secret-another-secret-another-secret' });
    const foreign = signToken(other, 'access', user(2)).token;
    const refresh = signToken(config, 'refresh', user(2)).token;
    const forged = jwt.sign({ token_type: 'access', user_id: user(2), jti: 'y', iat: 1, exp: 9e9 }, 'wrong', { algorithm: 'HS256' });
    for (const token of [foreign, refresh, forged]) {
      expect(refusal(() => tokens.check(token))).toEqual({ status: 401, challenge: expect.stringContaining('The access token is invalid') });
      expect(refusal(() => tokens.check(token)).status).toBe(401);
    }
    expect(calls).toHaveLength(6);
  });

  it('forgets the oldest token beyond its capacity', () => {
    const { tokens, calls } = cached(config, 2);
    const [a, b, c] = [1, 2, 3].map((n) => signToken(config, 'access', user(n)).token);
    for (const token of [a!, b!, c!, b!, c!, a!]) tokens.check(token);
    expect(calls).toEqual([a, b, c, a]);
  });
});

describe('the JSON writer', () => {
  const values: unknown[] = [{ a: 1, text: 'naïve — 😀' }, [], null, 'plain', { nested: { deep: [1, 2, { x: 'y'.repeat(5000) }] } }];
  type EtagSetting = boolean | 'weak' | 'strong' | ((body: Buffer) => string);
  const pair = (etag: EtagSetting) => {
    const expressJson = express().set('etag', etag);
    const ours = express().set('etag', etag);
    for (const app of [expressJson, ours]) {
      values.forEach((value, i) => {
        for (const method of ['get', 'post'] as const) {
          app[method](`/v${i}`, (_req, res) => (app === ours ? sendSuccess(res, method === 'post' ? 201 : 200, value) : res.status(method === 'post' ? 201 : 200).json(success(value))));
        }
      });
    }
    return { expressJson, ours };
  };
  /** Requests as res.json answers them: uncompressed (the JSON writer compresses larger bodies when accepted). */
  const plain = (app: express.Express) => ({
    get: (path: string) => request(app).get(path).set('Accept-Encoding', 'identity'),
    post: (path: string) => request(app).post(path).set('Accept-Encoding', 'identity'),
    head: (path: string) => request(app).head(path).set('Accept-Encoding', 'identity'),
  });
  const pick = (r: request.Response) => ({ status: r.status, type: r.headers['content-type'], length: r.headers['content-length'], etag: r.headers.etag, text: r.text });
  const custom = (body: Buffer) => `"custom-${body.length}"`;

  for (const etag of ['weak', true, 'strong', false, custom] as EtagSetting[]) {
    it(`sends what res.json sends under app.set('etag', ${typeof etag === 'function' ? 'a function' : JSON.stringify(etag)}): status, type, length, ETag, body; 304 on a matching If-None-Match; HEAD without body`, async () => {
      const { expressJson, ours } = pair(etag);
      for (let i = 0; i < values.length; i++) {
        const [a, b] = await Promise.all([plain(expressJson).get(`/v${i}`), plain(ours).get(`/v${i}`)]);
        expect(pick(b)).toEqual(pick(a));
        expect(b.headers.etag === undefined).toBe(etag === false);
        for (const inm of [String(a.headers.etag), `"other", ${a.headers.etag}`, '*', 'W/"nope"']) {
          const [x, y] = await Promise.all([plain(expressJson).get(`/v${i}`).set('If-None-Match', inm), plain(ours).get(`/v${i}`).set('If-None-Match', inm)]);
          expect(pick(y), inm).toEqual(pick(x));
        }
        const [p, q] = await Promise.all([plain(expressJson).post(`/v${i}`).set('If-None-Match', String(a.headers.etag)), plain(ours).post(`/v${i}`).set('If-None-Match', String(a.headers.etag))]);
        expect(pick(q)).toEqual(pick(p));
        const [h1, h2] = await Promise.all([plain(expressJson).head(`/v${i}`), plain(ours).head(`/v${i}`)]);
        expect(pick(h2)).toEqual(pick(h1));
      }
    });
  }

  it('a caller\'s precomputed weak ETag is sent under the weak setting only; other settings get theirs', async () => {
    const text = JSON.stringify([1, 2, 3]);
    const apps = (['weak', 'strong', false] as const).map((etag) => express().set('etag', etag).get('/x', (_req, res) => sendSuccessJson(res, 200, text, 'W/"precomputed"')));
    const [weak, strong, off] = await Promise.all(apps.map((app) => request(app).get('/x')));
    expect(weak!.headers.etag).toBe('W/"precomputed"');
    expect(strong!.headers.etag).toMatch(/^"[^W]/);
    expect(off!.headers.etag).toBeUndefined();
    expect((await request(apps[0]!).get('/x').set('If-None-Match', 'W/"precomputed"')).status).toBe(304);
  });

  describe('compression', () => {
    const big = { items: Array.from({ length: 200 }, (_, i) => ({ i, text: `item ${i} of a list that compresses well` })) };
    /** The raw answer, bytes as sent (no client-side decoding). */
    async function raw(app: express.Express, headers: Record<string, string>, method = 'GET') {
      const server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      try {
        const { port } = server.address() as AddressInfo;
        return await new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port, path: '/x', method, headers }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
          });
          req.on('error', reject);
          req.end();
        });
      } finally {
        server.close();
      }
    }
    const appOf = (value: unknown, etag: 'weak' | 'strong' = 'weak') => express().set('etag', etag).get('/x', (_req, res) => sendSuccess(res, 200, value));
    const identity = JSON.stringify(success(big));

    it('codes a body of 1 kB or more with the accepted coding (brotli first), with its length, Vary and the same weak ETag', async () => {
      const app = appOf(big);
      const plainAnswer = await raw(app, { 'Accept-Encoding': 'identity' });
      expect(plainAnswer.headers['content-encoding']).toBeUndefined();
      expect(plainAnswer.body.toString()).toBe(identity);
      expect(plainAnswer.headers.vary).toBe('Accept-Encoding');
      const cases: [string, string | undefined][] = [
        ['gzip, deflate, br', 'br'],
        ['gzip', 'gzip'],
        ['br;q=0.5, gzip', 'gzip'],
        ['*', 'br'],
        ['br;q=0, gzip;q=0', undefined],
        ['deflate', undefined],
      ];
      for (const [accept, coding] of cases) {
        const answer = await raw(app, { 'Accept-Encoding': accept });
        expect(answer.headers['content-encoding'], accept).toBe(coding);
        expect(Number(answer.headers['content-length']), accept).toBe(answer.body.length);
        const text = coding === 'br' ? brotliDecompressSync(answer.body) : coding === 'gzip' ? gunzipSync(answer.body) : answer.body;
        expect(text.toString(), accept).toBe(identity);
        expect(answer.headers.etag, accept).toBe(plainAnswer.headers.etag);
        expect(answer.headers.vary, accept).toBe('Accept-Encoding');
        // The same ETag revalidates whatever coding the client holds.
        expect((await raw(app, { 'Accept-Encoding': accept, 'If-None-Match': String(answer.headers.etag) })).status, accept).toBe(304);
      }
      expect((await raw(app, {})).headers['content-encoding']).toBeUndefined();
      const head = await raw(app, { 'Accept-Encoding': 'gzip' }, 'HEAD');
      expect(head.headers['content-encoding']).toBeUndefined();
      expect(head.headers['content-length']).toBe(plainAnswer.headers['content-length']);
    });

    it('sends small bodies as they are; a strong ETag of a coded body is sent weak', async () => {
      const small = await raw(appOf({ a: 1 }), { 'Accept-Encoding': 'gzip, br' });
      expect(small.headers['content-encoding']).toBeUndefined();
      expect(small.headers.vary).toBeUndefined();
      const strong = appOf(big, 'strong');
      const plainAnswer = await raw(strong, { 'Accept-Encoding': 'identity' });
      expect(plainAnswer.headers.etag).toMatch(/^"/);
      const coded = await raw(strong, { 'Accept-Encoding': 'gzip' });
      expect(coded.headers.etag).toBe(`W/${plainAnswer.headers.etag}`);
      expect((await raw(strong, { 'Accept-Encoding': 'gzip', 'If-None-Match': String(coded.headers.etag) })).status).toBe(304);
    });
  });
});
