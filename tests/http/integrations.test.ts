import { afterAll, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { createDeps } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config/env.js';
import { describeEachStorage, TEST_ENV } from '../support/app.js';
import { connect, fakeKey, newConversation } from '../support/chat.js';
import { registerUser } from '../support/factories.js';
import { startFakeProviders } from '../support/fake-providers.js';
import supertest from 'supertest';
import { checked } from '../support/openapi-validator.js';

const fake = await startFakeProviders();
afterAll(() => fake.close());

const env = { ...fake.env, INTEGRATION_TEST_TIMEOUT: '2s', LLM_TIMEOUT: '3s' };
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/;

/** A local port with nothing listening: a provider that cannot be reached. */
const closedPort = () =>
  import('node:net').then(({ createServer }) => new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  }));

describeEachStorage('integrations', (ctx) => {
  it('G2 creates after a live test through each SDK; the key is masked in responses and encrypted in the database', async () => {
    const app = ctx();
    const s = await registerUser(app);
    for (const provider of ['openai', 'anthropic', 'google', 'deepseek', 'groq'] as const) {
      const { apiKey, marker } = fakeKey('ok');
      const res = await app.http.post('/api/integrations').set(s.auth).send({ provider, apiKey: `  ${apiKey}  ` });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        ok: true, error: null,
        data: { id: expect.stringMatching(/^int-[0-9a-f]{12}$/), provider, modelId: null, modelName: null, apiKey: `sk-...${apiKey.slice(-3)}`, status: 'connected', lastTested: expect.stringMatching(ISO), errorMessage: null },
      });
      // the test went through the vendor's real wire format with the trimmed key
      const [seen] = fake.requestsFor(marker);
      expect(seen).toMatchObject({ provider, apiKey });
      expect(seen!.path).toBe(provider === 'google' ? '/v1beta/models/gemini-2.0-flash:countTokens' : provider === 'anthropic' ? '/v1/models' : '/models');
      const raw = await app.deps.prisma.$queryRaw<{ api_key: string }[]>`SELECT api_key FROM integrations WHERE id = ${res.body.data.id}`;
      expect(raw[0]!.api_key).toMatch(/^v1:[\w-]{16}:[\w-]{22}:[\w-]+$/);
      expect(raw[0]!.api_key).not.toContain(apiKey);
      expect(raw[0]!.api_key).not.toContain(marker);
    }
    const list = await app.http.get('/api/integrations').set(s.auth);
    expect(list.body.data.total).toBe(5);
    expect(JSON.stringify(list.body)).not.toMatch(/sk-ok-[0-9a-f]{12}/);
    expect(app.logs.join('')).not.toMatch(/sk-ok-[0-9a-f]{12}/);
  });

  it.each([
    ['openai', 'badkey', 'Invalid API key'],
    ['anthropic', 'badkey', 'Invalid API key'],
    ['google', 'badkey', 'Invalid API key'],
    ['groq', 'test500', 'API returned status 500'],
    ['openai', 'testslow', 'Connection timeout - API did not respond in time'],
    ['google', 'testslow', 'Connection timeout - API did not respond in time'],
  ] as const)('G2 %s with a %s key is stored with status error and the §5.8 message', async (provider, behaviour, message) => {
    const app = ctx();
    const s = await registerUser(app);
    const res = await app.http.post('/api/integrations').set(s.auth).send({ provider, apiKey: fakeKey(behaviour).apiKey });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ status: 'error', errorMessage: message });
  });

  it('DeepSeek 402 (no balance) counts as a working key; an unreachable host is a connection error', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const res = await app.http.post('/api/integrations').set(s.auth).send({ provider: 'deepseek', apiKey: fakeKey('nobalance').apiKey });
    expect(res.body.data.status).toBe('connected');
    const config = loadConfig({ ...TEST_ENV, ...env, OPENAI_BASE_URL: `http://127.0.0.1:${await closedPort()}/v1` });
    const deps = await createDeps(config, { db: app.database.db, logger: app.deps.logger });
    const other = supertest(checked(createApp(deps)));
    const t = await other.post('/api/integrations').set(s.auth).send({ provider: 'openai', apiKey: fakeKey().apiKey });
    expect(t.body.data).toMatchObject({ status: 'error', errorMessage: 'Connection error - unable to reach API' });
    await deps.rateLimitStore.close();
  });

  it('an integration saved while its provider was unreachable recovers at send time: re-tested at most once a minute, across concurrent sends', async () => {
    const app = ctx();
    const s = await registerUser(app);
    // Saved through an instance that cannot reach OpenAI.
    const unreachable = loadConfig({ ...TEST_ENV, ...env, OPENAI_BASE_URL: `http://127.0.0.1:${await closedPort()}/v1` });
    const offline = await createDeps(unreachable, { db: app.database.db, logger: app.deps.logger });
    const { apiKey, marker } = fakeKey();
    const saved = await supertest(checked(createApp(offline))).post('/api/integrations').set(s.auth).send({ provider: 'openai', apiKey });
    await offline.rateLimitStore.close();
    expect(saved.body.data).toMatchObject({ status: 'error', errorMessage: 'Connection error - unable to reach API' });
    const conv = await newConversation(app, s, 'model-gpt-4o');
    const send = (http: ReturnType<typeof supertest>, content: string) => http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content });
    const tests = () => fake.requestsFor(marker).filter((r) => r.method === 'GET' && r.path === '/models').length;

    // Tested moments ago: not again within the minute; the 400 says the key exists and why its test failed.
    const early = await send(app.http, 'too soon');
    expect(early.status).toBe(400);
    expect(early.body).toMatchObject({
      ok: false,
      error: 'Your openai API key is saved, but its last connection test failed: Connection error - unable to reach API',
      data: { userMessage: { content: 'too soon', metadata: { failed: true } } },
    });
    expect(tests()).toBe(0);

    // A minute later, concurrent sends test it once and all use it.
    const aMinuteAgo = () => new Date(Date.now() - 61_000);
    await app.deps.prisma.integration.update({ where: { id: saved.body.data.id }, data: { lastTested: aMinuteAgo() } });
    const results = await Promise.all([1, 2, 3, 4].map((i) => send(app.http, `recovered ${i}`)));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    expect(tests()).toBe(1);
    expect((await app.http.get(`/api/integrations/${saved.body.data.id}`).set(s.auth)).body.data).toMatchObject({ status: 'connected', errorMessage: null });
    expect((await send(app.http, 'and later')).status).toBe(201);
    expect(tests()).toBe(1);

    // Two processes on one database: still one test (whichever claims it), and the claimant's send goes through.
    await app.deps.prisma.integration.update({ where: { id: saved.body.data.id }, data: { status: 'error', lastTested: aMinuteAgo() } });
    const otherConfig = loadConfig({ ...TEST_ENV, ...env });
    const other = await createDeps(otherConfig, { db: app.database.db, logger: app.deps.logger });
    const pair = await Promise.all([send(app.http, 'from here'), send(supertest(checked(createApp(other))), 'from another instance')]);
    await other.rateLimitStore.close();
    expect(tests()).toBe(2);
    expect(pair.map((r) => r.status)).toContain(201);
    for (const r of pair) expect([201, 400]).toContain(r.status);
  });

  it('when the re-test still fails, the 400 names the saved key and the new reason; without any key the contract error stays', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const { integration, marker } = await connect(app, s, 'openai', 'test500');
    expect(integration).toMatchObject({ status: 'error', errorMessage: 'API returned status 500' });
    await app.deps.prisma.integration.update({ where: { id: integration.id }, data: { lastTested: new Date(Date.now() - 61_000), errorMessage: 'Connection error - unable to reach API' } });
    const conv = await newConversation(app, s, 'model-gpt-4o');
    const send = (content: string) => app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content });
    const tests = () => fake.requestsFor(marker).filter((r) => r.path === '/models').length;
    const before = tests();
    const failed = await send('first');
    expect(failed.status).toBe(400);
    expect(failed.body.error).toBe('Your openai API key is saved, but its last connection test failed: API returned status 500');
    expect(tests()).toBe(before + 1);
    expect((await send('second')).body.error).toBe(failed.body.error);
    expect(tests()).toBe(before + 1);
    expect(fake.requestsFor(marker).filter((r) => r.path.endsWith('/chat/completions'))).toHaveLength(0);

    // A stored value that cannot be decrypted is reported the same way (and marked, as G6 does).
    await app.deps.prisma.integration.update({ where: { id: integration.id }, data: { apiKey: 'v1:garbage', lastTested: new Date(Date.now() - 61_000) } });
    expect((await send('third')).body.error).toBe('Your openai API key is saved, but its last connection test failed: Failed to decrypt API key');
    expect((await app.http.get(`/api/integrations/${integration.id}`).set(s.auth)).body.data).toMatchObject({ status: 'error', errorMessage: 'Failed to decrypt API key' });

    const claude = await newConversation(app, s, 'model-claude-3-haiku');
    const none = await app.http.post(`/api/conversations/${claude.id}/messages`).set(s.auth).send({ content: 'hi' });
    expect(none.status).toBe(400);
    expect(none.body.error).toBe('No connected integration found for provider: anthropic');
  });

  it('G2 validation and duplicates', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const post = (body: unknown) => app.http.post('/api/integrations').set(s.auth).send(body as object);
    expect((await post({})).body.error).toEqual({ provider: ['This field is required.'], apiKey: ['This field is required.'] });
    expect((await post({ provider: 'xai', apiKey: 'x'.repeat(20) })).body.error).toEqual({ provider: ['"xai" is not a valid choice.'] });
    expect((await post({ provider: 'openai', apiKey: 'x'.repeat(9) })).body.error).toEqual({ apiKey: ['Ensure this field has at least 10 characters.'] });
    expect((await post({ provider: 'openai', apiKey: 'x'.repeat(501) })).body.error).toEqual({ apiKey: ['Ensure this field has no more than 500 characters.'] });
    expect((await post({ provider: 'openai', apiKey: 'sk-ok-1234567890', modelId: 'm'.repeat(45) })).status).toBe(400);
    expect((await post({ provider: 'openai', apiKey: 'sk-ok-1234567890', modelId: 'm'.repeat(10_000) })).status).toBe(400);
    await connect(app, s, 'openai');
    const dup = await post({ provider: 'openai', apiKey: fakeKey().apiKey });
    expect(dup.status).toBe(400);
    expect(dup.body).toEqual({ ok: false, data: null, error: 'Integration already exists for this provider' });
    const racing = await Promise.all([1, 2, 3].map(() => post({ provider: 'groq', apiKey: fakeKey().apiKey })));
    expect(racing.map((r) => r.status).sort()).toEqual([201, 400, 400]);
  });

  it('G3–G6 are strictly per user; G4 re-tests a new key; G6 reports failure with 200', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const stranger = await registerUser(app);
    const { integration } = await connect(app, s, 'anthropic');
    for (const [method, path] of [['get', ''], ['put', ''], ['delete', ''], ['post', '/test']] as const) {
      const res = await app.http[method](`/api/integrations/${integration.id}${path}`).set(stranger.auth).send({});
      expect(res.status).toBe(404);
      expect(res.body.error).toBe('Integration not found');
    }
    const got = await app.http.get(`/api/integrations/${integration.id}`).set(s.auth);
    expect(got.body.data).toEqual(integration);

    const bad = fakeKey('badkey');
    const put = await app.http.put(`/api/integrations/${integration.id}`).set(s.auth).send({ apiKey: bad.apiKey, modelId: 'claude-3-haiku', modelName: 'Haiku' });
    expect(put.status).toBe(200);
    expect(put.body.data).toMatchObject({ status: 'error', errorMessage: 'Invalid API key', modelId: 'claude-3-haiku', modelName: 'Haiku', apiKey: `sk-...${bad.apiKey.slice(-3)}` });
    expect((await app.http.put(`/api/integrations/${integration.id}`).set(s.auth).send({ apiKey: 'short' })).status).toBe(400);

    const test = await app.http.post(`/api/integrations/${integration.id}/test`).set(s.auth);
    expect(test.status).toBe(200);
    expect(test.body.data).toMatchObject({ success: false, message: 'Invalid API key', integration: { status: 'error' } });
    await app.http.put(`/api/integrations/${integration.id}`).set(s.auth).send({ apiKey: fakeKey().apiKey });
    const ok = await app.http.post(`/api/integrations/${integration.id}/test`).set(s.auth);
    expect(ok.body.data).toMatchObject({ success: true, message: 'Connection test successful', integration: { status: 'connected', errorMessage: null } });

    // a stored value that cannot be decrypted: 400 and the row is marked
    await app.deps.prisma.integration.update({ where: { id: integration.id }, data: { apiKey: 'v1:garbage' } });
    const broken = await app.http.post(`/api/integrations/${integration.id}/test`).set(s.auth);
    expect(broken.status).toBe(400);
    expect(broken.body.error).toBe('Failed to decrypt API key');
    expect((await app.http.get(`/api/integrations/${integration.id}`).set(s.auth)).body.data).toMatchObject({ apiKey: '***', status: 'error', errorMessage: 'Failed to decrypt API key' });

    const del = await app.http.delete(`/api/integrations/${integration.id}`).set(s.auth);
    expect(del.body).toEqual({ ok: true, data: { message: 'Integration deleted successfully' }, error: null });
    expect((await app.http.get(`/api/integrations/${integration.id}`).set(s.auth)).status).toBe(404);
  });

  it('G7 maps connected integrations to CognitiveModels (§5.7)', async () => {
    const app = ctx();
    const s = await registerUser(app);
    await connect(app, s, 'openai');
    await connect(app, s, 'groq');
    await connect(app, s, 'anthropic', 'ok', { modelId: 'claude-3-haiku', modelName: 'Quick Claude' });
    await connect(app, s, 'google', 'badkey'); // not connected: not listed
    const res = await app.http.get('/api/models/available').set(s.auth);
    expect(res.status).toBe(200);
    const close = (x: number) => expect.closeTo(x, 6);
    expect(res.body.data).toEqual({
      total: 3,
      models: [
        { id: 'model-gpt-4o', provider: 'openai', name: 'gpt-4o', displayName: 'Gpt 4O', brainRegion: 'Left Cortex', status: 'connected', position: { x: close(-1.7926078), y: close(0.7967146), z: close(0.9958932) } },
        { id: 'model-llama-3.3-70b-versatile', provider: 'groq', name: 'llama-3.3-70b-versatile', displayName: 'Llama 3.3 70B Versatile', brainRegion: 'Temporal', status: 'connected', position: { x: close(-1.5141438), y: close(-0.5047146), z: close(1.5141438) } },
        { id: 'model-claude-3-haiku', provider: 'anthropic', name: 'claude-3-haiku', displayName: 'Quick Claude', brainRegion: 'Right Cortex', status: 'connected', position: { x: close(1.7926078), y: close(0.7967146), z: close(0.9958932) } },
      ],
      providers: [], // no OpenAI-compatible provider declared
    });
  });

  it('key rotation: rows written under the previous key still decrypt and are re-encrypted on use', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const { integration, apiKey } = await connect(app, s, 'openai');
    const before = await app.deps.prisma.integration.findUniqueOrThrow({ where: { id: integration.id } });
    expect(before.apiKey?.startsWith('v1:')).toBe(true);
    // The same database served by an instance whose current key is new and whose previous key is the old one.
    const rotated = loadConfig({ ...TEST_ENV, ...env, ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'), ENCRYPTION_KEY_PREVIOUS: TEST_ENV.ENCRYPTION_KEY! });
    const deps = await createDeps(rotated, { db: app.database.db, logger: app.deps.logger });
    const http = supertest(checked(createApp(deps)));
    const listed = await http.get('/api/integrations').set(s.auth);
    expect(listed.body.data.integrations[0].apiKey).toBe(`sk-...${apiKey.slice(-3)}`);
    const tested = await http.post(`/api/integrations/${integration.id}/test`).set(s.auth);
    expect(tested.body.data.success).toBe(true);
    const after = await app.deps.prisma.integration.findUniqueOrThrow({ where: { id: integration.id } });
    expect(after.apiKey?.startsWith('v2:')).toBe(true);
    expect(after.apiKey).not.toContain(apiKey);
    // and the old instance (old key only) can no longer read it: masked as ***
    expect((await app.http.get(`/api/integrations/${integration.id}`).set(s.auth)).body.data.apiKey).toBe('***');
    await deps.rateLimitStore.close();
  });
}, env);
