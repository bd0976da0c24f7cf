/**
 * The request hot path's shortcuts behave exactly like what they replace: the one-pass
 * security/CORS headers against helmet() + cors() in a row, the verified-token cache
 * against a fresh jsonwebtoken verification (expiry, secret, token type), and the JSON writer
 * against Express's res.json (headers, weak ETag, 304, HEAD).
 */
import cors from 'cors';
import express from 'express';
import helmet from 'helmet';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/env.js';
import { sendSuccess, success } from '../../src/http/envelope.js';
import { type CorsSettings, securityAndCorsHeaders } from '../../src/http/middleware/headers.js';
import { signToken, verifyToken } from '../../src/services/auth/tokens.js';
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

describe('verified-token cache', () => {
  afterEach(() => vi.useRealTimers());
  const config = loadConfig({ ...TEST_ENV, ACCESS_TOKEN_TTL: '60s' });

  it('a token verified once still expires on time', () => {
    vi.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z'), toFake: ['Date'] });
    const { token } = signToken(config, 'access', '00000000-0000-4000-8000-000000000001');
    expect(verifyToken(config, token, 'access')?.user_id).toBe('00000000-0000-4000-8000-000000000001');
    expect(verifyToken(config, token, 'access')).not.toBeNull(); // from the cache
    vi.setSystemTime(new Date('2030-01-01T00:01:00Z'));
    expect(verifyToken(config, token, 'access')).toBeNull();
    expect(verifyToken(config, token, 'access')).toBeNull();
  });

  it('is per secret and still checks the token type', () => {
    const { token } = signToken(config, 'access', '00000000-0000-4000-8000-000000000002');
    expect(verifyToken(config, token, 'access')).not.toBeNull();
    expect(verifyToken(config, token, 'refresh')).toBeNull();
    const other = loadConfig({ ...TEST_ENV, JWT_SECRET: 'another-secret-another-secret-another-secret' });
    expect(verifyToken(other, token, 'access')).toBeNull();
    const forged = jwt.sign({ token_type: 'access', user_id: 'x', jti: 'y', exp: 9e9 }, 'wrong', { algorithm: 'HS256' });
    expect(verifyToken(config, forged, 'access')).toBeNull();
  });
});

describe('the JSON writer', () => {
  const values: unknown[] = [{ a: 1, text: 'naïve — 😀' }, [], null, 'plain', { nested: { deep: [1, 2, { x: 'y'.repeat(5000) }] } }];
  const pair = () => {
    const expressJson = express().set('etag', 'weak');
    const ours = express().set('etag', 'weak');
    for (const app of [expressJson, ours]) {
      values.forEach((value, i) => {
        for (const method of ['get', 'post'] as const) {
          app[method](`/v${i}`, (_req, res) => (app === ours ? sendSuccess(res, method === 'post' ? 201 : 200, value) : res.status(method === 'post' ? 201 : 200).json(success(value))));
        }
      });
    }
    return { expressJson, ours };
  };

  it('sends what res.json sends: status, type, length, weak ETag, body; 304 on a matching If-None-Match; HEAD without body', async () => {
    const { expressJson, ours } = pair();
    const pick = (r: request.Response) => ({ status: r.status, type: r.headers['content-type'], length: r.headers['content-length'], etag: r.headers.etag, text: r.text });
    for (let i = 0; i < values.length; i++) {
      const [a, b] = await Promise.all([request(expressJson).get(`/v${i}`), request(ours).get(`/v${i}`)]);
      expect(pick(b)).toEqual(pick(a));
      expect(b.headers.etag).toMatch(/^W\/"/);
      for (const inm of [String(a.headers.etag), `"other", ${a.headers.etag}`, '*', 'W/"nope"']) {
        const [x, y] = await Promise.all([request(expressJson).get(`/v${i}`).set('If-None-Match', inm), request(ours).get(`/v${i}`).set('If-None-Match', inm)]);
        expect({ ...pick(y), type: y.headers['content-type'] }, inm).toEqual({ ...pick(x), type: x.headers['content-type'] });
      }
      const [p, q] = await Promise.all([request(expressJson).post(`/v${i}`).set('If-None-Match', String(a.headers.etag)), request(ours).post(`/v${i}`).set('If-None-Match', String(a.headers.etag))]);
      expect(pick(q)).toEqual(pick(p));
      const [h1, h2] = await Promise.all([request(expressJson).head(`/v${i}`), request(ours).head(`/v${i}`)]);
      expect(pick(h2)).toEqual(pick(h1));
    }
  });
});
