import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChimeraApp, createApp } from '../../src/app.js';
import type { AppDeps } from '../../src/app-deps.js';
import { createDeps, createLogger } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config/env.js';
import { openDatabase } from '../../src/db/client.js';
import supertest from 'supertest';
import { TEST_ENV } from '../support/app.js';
import jwt from 'jsonwebtoken';
import { checked } from '../support/openapi-validator.js';

describe('database unreachable', () => {
  let deps: AppDeps;
  let app: ChimeraApp;
  beforeAll(async () => {
    const config = loadConfig({ ...TEST_ENV, LOG_LEVEL: 'silent', DATABASE_TIMEOUT_MS: '500' });
    // Nothing listens on port 1: every connection is refused at once.
    const db = await openDatabase({ kind: 'postgres', url: 'postgresql://postgres@127.0.0.1:1/none', timeoutMs: 500 });
    deps = await createDeps(config, { db, logger: createLogger({ logLevel: 'silent' }) });
    app = createApp(deps);
  });
  afterAll(() => deps.db.close());

  it('health answers 503 with the reason, quickly', async () => {
    const started = Date.now();
    const r = await supertest(checked(app)).get('/api/health');
    expect(r.status).toBe(503);
    expect(r.body.ok).toBe(false);
    expect(r.body.error).toBe('Database unavailable');
    expect(r.body.data).toMatchObject({ status: 'unhealthy', database: expect.stringMatching(/^error: /) });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('requests needing the database get a 503 envelope, not a 500', async () => {
    const token = jwt.sign({ token_type: 'access', user_id: '00000000-0000-4000-8000-000000000000', jti: 'j' }, TEST_ENV.JWT_SECRET!, { expiresIn: 60 });
    const profile = await supertest(checked(app)).get('/api/auth/profile').set('Authorization', `Bearer ${token}`);
    expect(profile.status).toBe(503);
    expect(profile.body).toEqual({ ok: false, data: null, error: 'Database unavailable' });
    const login = await supertest(checked(app)).post('/api/auth/login').send({ email: 'a@b.co', password: 'password123' });
    expect(login.status).toBe(503);
  });
});
