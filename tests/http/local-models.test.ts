/**
 * Self-hosted and other OpenAI-compatible providers (OPENAI_COMPATIBLE_PROVIDERS): their models
 * in /models/available, keyless integrations, chat (JSON and streamed), retrieval and the
 * transcript memory through the `openai` SDK, and servers that are down or never answer.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.js';
import { describeEachStorage } from '../support/app.js';
import { createMemory, newConversation, parseSse } from '../support/chat.js';
import { registerUser, type Session } from '../support/factories.js';
import { DEFAULT_REPLY, LOCAL_MODELS, type RecordedRequest, startFakeProviders } from '../support/fake-providers.js';
import type { TestApp } from '../support/app.js';

const fake = await startFakeProviders();
afterAll(() => fake.close());

/** A port nothing listens on (now). */
const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
const closedPort = await freePort();
/** Where a second self-hosted server runs during one test, then stops: a provider going down. */
const flakyPort = await freePort();
const flakyUrl = `http://127.0.0.1:${flakyPort}/local/v1`;
const flakyRequests: RecordedRequest[] = [];

const env = {
  ...fake.env,
  OPENAI_COMPATIBLE_PROVIDERS: [
    `ollama=${fake.compatibleUrl}`,
    `vllm=${fake.compatibleUrl}/`,
    `flaky=${flakyUrl}`,
    `offline=http://127.0.0.1:${closedPort}/v1`,
    `stalled=${fake.stalledUrl}`,
  ].join(','),
  OPENAI_COMPATIBLE_MODELS_TIMEOUT: '1s',
  LLM_TIMEOUT: '3s',
  INTEGRATION_TEST_TIMEOUT: '3s',
};

/** The requests the self-hosted server received whose chat turns mention `marker`. */
const chatsMentioning = (marker: string) =>
  [...fake.requests, ...flakyRequests].filter((r) => r.provider === 'local' && r.path === '/chat/completions' && JSON.stringify(r.body).includes(marker));
const modelListings = () => fake.requests.filter((r) => r.provider === 'local' && r.path === '/models');

async function connectDeclared(app: TestApp, s: Session, provider: string, extra: Record<string, unknown> = {}) {
  const res = await app.http.post('/api/integrations').set(s.auth).send({ provider, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data;
}

/** A word found only in this run's requests (the fake servers are shared by both storages). */
const unique = (label: string) => `${label}-${randomBytes(4).toString('hex')}`;

const radius = (p: { x: number; y: number; z: number }) => Math.hypot(p.x, p.y, p.z);

describeEachStorage('OpenAI-compatible providers', (ctx) => {
  it('every declared provider is reported; an unreachable or silent one as unavailable, without holding up the answer', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const res = await app.http.get('/api/models/available').set(s.auth);
    expect(res.status).toBe(200);
    expect(res.body.data.models).toEqual([]);
    const byName = Object.fromEntries(res.body.data.providers.map((p: { provider: string }) => [p.provider, p]));
    expect(Object.keys(byName)).toEqual(['ollama', 'vllm', 'flaky', 'offline', 'stalled']);
    expect(byName.ollama).toEqual({ provider: 'ollama', status: 'available', error: null, modelCount: 2, connected: false, fetchedAt: expect.any(String) });
    expect(byName.offline).toMatchObject({ status: 'unavailable', error: 'Connection error - unable to reach API', modelCount: 0 });
    expect(byName.stalled).toMatchObject({ status: 'unavailable', error: 'Connection timeout - API did not respond in time', modelCount: 0 });
  });

  it("the document this server serves names its declared providers among an integration's choices", async () => {
    const doc = (await ctx().http.get('/api/openapi.json')).body;
    const provider = doc.paths['/api/integrations'].post.requestBody.content['application/json'].schema.properties.provider;
    expect(provider.enum).toEqual(['openai', 'anthropic', 'google', 'deepseek', 'groq', 'ollama', 'vllm', 'flaky', 'offline', 'stalled']);
    expect(provider.description).toContain('(on this server: ollama, vllm, flaky, offline, stalled)');
  });

  it('a keyless integration stores no key; its test lists the models without an Authorization header', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const before = modelListings().length;
    const integration = await connectDeclared(app, s, 'ollama', { modelName: null });
    expect(integration).toMatchObject({ provider: 'ollama', apiKey: '', status: 'connected', errorMessage: null, modelId: null });
    const row = await app.deps.prisma.integration.findUniqueOrThrow({ where: { id: integration.id } });
    expect(row.apiKey).toBeNull();
    const listings = modelListings().slice(before);
    expect(listings.length).toBeGreaterThanOrEqual(1);
    expect(listings.every((r) => r.headers.authorization === undefined)).toBe(true);
    // G6 tests it the same way: GET /models
    const count = modelListings().length;
    const tested = await app.http.post(`/api/integrations/${integration.id}/test`).set(s.auth);
    expect(tested.body.data).toMatchObject({ success: true, message: 'Connection test successful', integration: { status: 'connected', apiKey: '' } });
    expect(modelListings().length).toBe(count + 1);
    // a second one for the provider is refused as for any provider
    const again = await app.http.post('/api/integrations').set(s.auth).send({ provider: 'ollama' });
    expect(again.body).toMatchObject({ ok: false, error: 'Integration already exists for this provider' });
  });

  it('built-in providers still need a key; unknown providers and models too long for a conversation id are refused', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const post = (body: object) => app.http.post('/api/integrations').set(s.auth).send(body);
    expect((await post({ provider: 'openai' })).body.error).toEqual({ apiKey: ['This field is required.'] });
    expect((await post({ provider: 'lmstudio' })).body.error).toEqual({ provider: ['"lmstudio" is not a valid choice.'], apiKey: ['This field is required.'] });
    const long = await post({ provider: 'ollama', modelId: 'x'.repeat(40) });
    expect(long.status).toBe(400);
    expect(long.body.error).toEqual({ modelId: ['Ensure this field has no more than 37 characters for provider ollama (model ids are model-ollama/<model>).'] });
    expect(await app.deps.prisma.integration.count({ where: { userId: s.user.id } })).toBe(0);
  });

  it("a connected provider's models are listed, placed in the brain by the built-in rule; lists are cached and refreshed on demand", async () => {
    const app = ctx();
    const s = await registerUser(app);
    await app.http.post('/api/integrations').set(s.auth).send({ provider: 'openai', apiKey: 'sk-ok-local-models-0001' }).expect(201);
    await connectDeclared(app, s, 'ollama');
    const res = await app.http.get('/api/models/available').set(s.auth);
    const { models, total, providers } = res.body.data;
    expect(total).toBe(3);
    expect(models[0]).toMatchObject({ id: 'model-gpt-4o', provider: 'openai', brainRegion: 'Left Cortex', position: { x: expect.closeTo(-1.7926078, 6), y: expect.closeTo(0.7967146, 6), z: expect.closeTo(0.9958932, 6) } });
    expect(models.slice(1).map((m: { id: string }) => m.id)).toEqual(LOCAL_MODELS.map((m) => `model-ollama/${m}`));
    expect(models[1]).toMatchObject({ provider: 'ollama', name: 'ollama/llama3.2:latest', displayName: 'Llama3.2:Latest', brainRegion: 'Right Temporal', status: 'connected' });
    expect(models[2]).toMatchObject({ name: 'ollama/meta-llama/Llama-3.2-1B-Instruct', displayName: 'Meta Llama/Llama 3.2 1B Instruct', brainRegion: 'Right Temporal' });
    // the first model at the region's anchor scaled to 2.2 (as the built-in providers), the next one beside it
    const anchor = Math.hypot(1.5, -0.5, 1.5);
    expect(models[1].position).toEqual({ x: expect.closeTo((1.5 * 2.2) / anchor, 6), y: expect.closeTo((-0.5 * 2.2) / anchor, 6), z: expect.closeTo((1.5 * 2.2) / anchor, 6) });
    expect(radius(models[2].position)).toBeCloseTo(2.2, 10);
    expect(models[2].position).not.toEqual(models[1].position);
    expect(providers.find((p: { provider: string }) => p.provider === 'ollama')).toMatchObject({ connected: true, modelCount: 2 });

    const count = modelListings().length;
    await app.http.get('/api/models/available').set(s.auth).expect(200);
    expect(modelListings().length).toBe(count); // cached
    await app.http.get('/api/models/available?refresh=1').set(s.auth).expect(200);
    expect(modelListings().length).toBeGreaterThan(count); // fetched again
    expect((await app.http.get('/api/models/available?refresh=maybe').set(s.auth)).status).toBe(400);
  });

  it("an integration's own model comes first with its display name; a keyed integration sends its key", async () => {
    const app = ctx();
    const s = await registerUser(app);
    const integration = await connectDeclared(app, s, 'vllm', { apiKey: 'token-abc123-local', modelId: 'meta-llama/Llama-3.2-1B-Instruct', modelName: 'Small Llama' });
    expect(integration.apiKey).toBe('tok...cal');
    const { models } = (await app.http.get('/api/models/available').set(s.auth)).body.data;
    expect(models.map((m: { id: string; displayName: string }) => [m.id, m.displayName])).toEqual([
      ['model-vllm/meta-llama/Llama-3.2-1B-Instruct', 'Small Llama'],
      ['model-vllm/llama3.2:latest', 'Llama3.2:Latest'],
    ]);
    expect(models[0].brainRegion).toBe('Parietal Lobe');
    const conv = await newConversation(app, s, models[0].id);
    const marker = unique('keyed-question');
    const res = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: marker });
    expect(res.status).toBe(201);
    const [call] = chatsMentioning(marker);
    expect(call!.headers.authorization).toBe('Bearer token-abc123-local');
    expect(call!.body.model).toBe('meta-llama/Llama-3.2-1B-Instruct');
  });

  it('chat through a keyless provider: JSON and streamed replies, retrieval, and the transcript memory on close', async () => {
    const app = ctx();
    const s = await registerUser(app);
    await connectDeclared(app, s, 'ollama');
    const conv = await newConversation(app, s, 'model-ollama/llama3.2:latest');
    const memory = await createMemory(app, conv.workspaceId, { title: 'Deployment notes', content: 'The staging cluster deploys every Tuesday via the blue pipeline.' });

    const asked = unique('q-json');
    const json = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: `When does the staging cluster deploy? ${asked}`, autoRetrieve: true });
    expect(json.status).toBe(201);
    expect(json.body.data.assistantMessage).toMatchObject({ role: 'assistant', content: DEFAULT_REPLY });
    expect(json.body.data.assistantMessage.metadata).toEqual({
      tokens: 33, model_version: 'llama3.2:latest', provider: 'ollama', response_time_ms: expect.any(Number), retrievedMemoryIds: [memory.id],
      citations: [{ memoryId: memory.id, title: memory.title, score: expect.any(Number), how: 'retrieved' }],
    });
    const [call] = chatsMentioning(asked) as RecordedRequest[];
    expect(call!.headers.authorization).toBeUndefined();
    expect(call!.body.model).toBe('llama3.2:latest');
    expect(call!.body.messages[0].content).toContain('=== Retrieved Context ===\n\n[Deployment notes]\nThe staging cluster deploys every Tuesday');

    const streamAsked = unique('q-sse');
    const streamed = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: `stream please ${streamAsked}`, stream: true });
    expect(streamed.status).toBe(200);
    expect(streamed.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = parseSse(streamed.text);
    const deltas = events.filter((e) => e.event === 'delta');
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.map((e) => e.data.text).join('')).toBe(DEFAULT_REPLY);
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { assistantMessage: { content: DEFAULT_REPLY, metadata: { provider: 'ollama', tokens: 33 } } } });
    expect(chatsMentioning(streamAsked)[0]!.body.stream).toBe(true);

    const closed = await app.http.post(`/api/conversations/${conv.id}/close`).set(s.auth);
    expect(closed.status).toBe(200);
    const row = await app.deps.prisma.memory.findUniqueOrThrow({ where: { id: closed.body.data.memory.id } });
    expect(row.content).toContain(`Assistant: ${DEFAULT_REPLY}`);
    expect(row.metadata).toMatchObject({ model_used: 'model-ollama/llama3.2:latest', message_count: 4 });
  });

  it("an import summary is written by the first connected declared provider, with the first model its server lists", async () => {
    const app = ctx();
    const s = await registerUser(app);
    await connectDeclared(app, s, 'ollama');
    const ws = await app.deps.prisma.workspace.findFirstOrThrow({ where: { ownerId: s.user.id } });
    const marker = unique('doc');
    const text = `${marker}\n\n${Array.from({ length: 30 }, (_, i) => `Paragraph ${i}: measured observations of the river delta.`).join('\n\n')}`;
    const res = await app.http.post(`/api/workspaces/${ws.id}/memories/import-file`).set(s.auth).field('summarize', 'true').attach('file', Buffer.from(text), 'notes.md');
    expect(res.status).toBe(201);
    expect(res.body.data.memory.content).toBe(DEFAULT_REPLY);
    expect(res.body.data.memory.metadata).toMatchObject({ was_summarized: true, summary: { by: 'model', model: 'llama3.2:latest' } });
    expect(chatsMentioning(marker).map((call) => call.body.model)).toEqual(['llama3.2:latest']);
  });

  it('an integration of a provider no longer declared stays listed, tests as unknown, and offers no model', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const row = await app.deps.prisma.integration.create({
      data: { id: newId('int'), userId: s.user.id, provider: 'retired', apiKey: null, status: 'connected', lastTested: new Date() },
    });
    const listed = (await app.http.get('/api/integrations').set(s.auth)).body.data.integrations;
    expect(listed).toEqual([expect.objectContaining({ id: row.id, provider: 'retired', apiKey: '' })]);
    expect((await app.http.get('/api/models/available').set(s.auth)).body.data.models).toEqual([]);
    const tested = await app.http.post(`/api/integrations/${row.id}/test`).set(s.auth);
    expect(tested.body.data).toMatchObject({ success: false, message: 'Unknown provider: retired', integration: { status: 'error' } });
  });

  it('a provider that goes down: chat answers 502 naming it; its models show as unavailable; one that was never up: 400 with the test error', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const flaky = await startFakeProviders({ port: flakyPort });
    let conv: { id: string };
    try {
      await connectDeclared(app, s, 'flaky');
      conv = await newConversation(app, s, 'model-flaky/llama3.2:latest');
      expect((await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'still up?' })).status).toBe(201);
    } finally {
      flakyRequests.push(...flaky.requests);
      await flaky.close();
    }
    const down = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'and now?' });
    expect(down.status).toBe(502);
    expect(down.body).toEqual({ ok: false, error: 'AI response failed: Connection error - unable to reach flaky', data: { userMessage: expect.objectContaining({ content: 'and now?' }) } });
    const listed = (await app.http.get('/api/models/available?refresh=1').set(s.auth)).body.data;
    expect(listed.models.filter((m: { provider: string }) => m.provider === 'flaky')).toEqual([]);
    expect(listed.providers.find((p: { provider: string }) => p.provider === 'flaky')).toMatchObject({ status: 'unavailable', connected: true, modelCount: 0 });

    const offline = await connectDeclared(app, s, 'offline');
    expect(offline).toMatchObject({ status: 'error', errorMessage: 'Connection error - unable to reach API', apiKey: '' });
    const never = await newConversation(app, s, 'model-offline/llama3.2:latest');
    const refused = await app.http.post(`/api/conversations/${never.id}/messages`).set(s.auth).send({ content: 'hello?' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('Your offline integration is saved, but its last connection test failed: Connection error - unable to reach API');
  });
}, env);
