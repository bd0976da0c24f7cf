import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStorage } from '../support/app.js';
import { addMember, connect, createMemory, defaultWorkspaceId, eventually, fakeKey, listen, newConversation, parseSse } from '../support/chat.js';
import { registerUser } from '../support/factories.js';
import { DEFAULT_REPLY, type FakeProvider, startFakeProviders } from '../support/fake-providers.js';

const fake = await startFakeProviders();
afterAll(() => fake.close());

// Generous deadlines: the suite shares two cores with the databases; the 'slow' fake waits SLOW_MS beyond them.
// GOOGLE_DEFAULT_MODEL is not the contract's gemini-2.0-flash, to show that the fallback of a retired model follows the setting.
const env = { ...fake.env, LLM_TIMEOUT: '3s', INTEGRATION_TEST_TIMEOUT: '3s', CONTEXT_MEMORY_CHARS: '2000', GOOGLE_DEFAULT_MODEL: 'gemini-2.5-flash' };
const SYSTEM = 'You are a helpful AI assistant in the Chimera Protocol system.';

/** Provider, conversation modelId, and the model id the vendor must receive. */
const MODELS: [FakeProvider, string, string][] = [
  ['openai', 'model-gpt-4o', 'gpt-4o'],
  ['anthropic', 'model-claude-3.5-sonnet', 'claude-3-5-sonnet-20241022'],
  ['google', 'model-gemini-1.5-flash', 'gemini-1.5-flash-latest'],
  ['deepseek', 'model-deepseek-chat', 'deepseek-chat'],
  ['groq', 'model-llama-3.3-70b-versatile', 'llama-3.3-70b-versatile'],
];

/** The system prompt and the turns a vendor received, whatever its wire format. */
function received(provider: FakeProvider, body: any): { system: string; turns: { role: string; content: string }[]; model?: string } {
  if (provider === 'anthropic') return { system: body.system, turns: body.messages, model: body.model };
  if (provider === 'google') {
    return {
      system: body.systemInstruction.parts.map((p: { text: string }) => p.text).join(''),
      turns: body.contents.map((c: any) => ({ role: c.role === 'model' ? 'assistant' : 'user', content: c.parts[0].text })),
    };
  }
  return { system: body.messages[0].content, turns: body.messages.slice(1), model: body.model };
}

const chatRequests = (marker: string) => fake.requestsFor(marker).filter((r) => r.method === 'POST' && !r.path.endsWith(':countTokens'));

describeEachStorage('chat', (ctx) => {
  let server: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    server = await listen(ctx());
  });
  afterAll(() => server.close());

  it.each(MODELS)('C6 through %s: 201 with both messages; the SDK sent the mapped model, the system prompt and the turn once', async (provider, modelId, vendorModel) => {
    const app = ctx();
    const s = await registerUser(app);
    const { marker } = await connect(app, s, provider);
    const conv = await newConversation(app, s, modelId);
    const res = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: '  What is up?  ', role: 'assistant' });
    expect(res.status).toBe(201);
    const { userMessage, assistantMessage } = res.body.data;
    expect(userMessage).toEqual({ id: expect.stringMatching(/^msg-[0-9a-f]{12}$/), conversationId: conv.id, role: 'user', content: 'What is up?', timestamp: expect.any(String), isPinned: false, metadata: {} });
    expect(assistantMessage).toMatchObject({ role: 'assistant', content: DEFAULT_REPLY, isPinned: false, conversationId: conv.id });
    expect(assistantMessage.metadata).toEqual({ tokens: 33, model_version: provider === 'google' ? vendorModel : vendorModel, provider, response_time_ms: expect.any(Number), citations: [] });
    const [call] = chatRequests(marker);
    const seen = received(provider, call!.body);
    if (seen.model) expect(seen.model).toBe(vendorModel);
    if (provider === 'google') expect(call!.path).toBe(`/v1beta/models/${vendorModel}:generateContent`);
    expect(seen.system).toBe(SYSTEM);
    expect(seen.turns).toEqual([{ role: 'user', content: 'What is up?' }]);
    // stored: author recorded, conversation shows both, activity logged twice
    const stored = await app.deps.prisma.chatMessage.findMany({ where: { conversationId: conv.id }, orderBy: { timestamp: 'asc' } });
    expect(stored.map((m) => [m.role, m.authorId])).toEqual([['user', s.user.id], ['assistant', null]]);
    const activities = await app.deps.prisma.activity.findMany({ where: { workspaceId: conv.workspaceId, type: 'message_sent' }, orderBy: { timestamp: 'asc' } });
    expect(activities.map((a) => a.description)).toEqual([`Message sent in 'Chat test': What is up?`, `Message sent in 'Chat test': ${DEFAULT_REPLY.length > 50 ? `${DEFAULT_REPLY.slice(0, 50)}...` : DEFAULT_REPLY}`]);
  });

  it('context: active injected memories in the system prompt, the last 10 messages, the new turn exactly once', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const { marker } = await connect(app, s, 'openai');
    const conv = await newConversation(app, s, 'model-gpt-4o');
    const active = await createMemory(app, conv.workspaceId, { title: 'Favourite colour', content: 'The user likes teal.' });
    const paused = await createMemory(app, conv.workspaceId, { title: 'Secret plan', content: 'Paused memory text.' });
    for (const m of [active, paused]) await app.http.post(`/api/conversations/${conv.id}/inject-memory`).set(s.auth).send({ memoryId: m.id });
    await app.http.put(`/api/conversations/${conv.id}/inject-memory/${paused.id}/toggle`).set(s.auth);
    for (let i = 1; i <= 12; i++) {
      const r = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: `old message ${i}`, getAiResponse: false });
      expect(r.status).toBe(201);
      expect(r.body.data).toEqual({ userMessage: expect.objectContaining({ content: `old message ${i}` }) });
    }
    const res = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'the new question' });
    expect(res.status).toBe(201);
    const seen = received('openai', chatRequests(marker).at(-1)!.body);
    expect(seen.system).toBe(`${SYSTEM}\n\n=== Injected Context ===\n\n[Favourite colour]\nThe user likes teal.\n\n=== End Context ===\n`);
    expect(seen.turns.map((t) => t.content)).toEqual([...Array.from({ length: 9 }, (_, i) => `old message ${i + 4}`), 'the new question']);
    expect(seen.turns.every((t) => t.role === 'user')).toBe(true);
  });

  it('context budget: a memory over the budget is cut with a note, the rest are named as left out', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const { marker } = await connect(app, s, 'anthropic');
    const conv = await newConversation(app, s, 'model-claude-3-haiku');
    for (const [title, size] of [['Small', 500], ['Large', 3000], ['Third', 100]] as const) {
      const m = await createMemory(app, conv.workspaceId, { title, content: title[0]!.repeat(size) });
      await app.http.post(`/api/conversations/${conv.id}/inject-memory`).set(s.auth).send({ memoryId: m.id });
    }
    await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'hello' }).expect(201);
    const call = chatRequests(marker).at(-1)!;
    expect(call.body.model).toBe('claude-3-haiku-20240307');
    const { system } = received('anthropic', call.body);
    expect(system).toContain(`[Small]\n${'S'.repeat(500)}\n`);
    expect(system).toContain(`[Large]\n${'L'.repeat(1500)}\n[Truncated: showing the first 1500 of 3000 characters of this memory.]`);
    expect(system).toContain('[Note: 1 more memory was left out to fit the context budget.]');
    expect(system).not.toContain('[Third]');
  });

  it.each([
    ['openai', 'chat401', 502, 'AI response failed: Incorrect API key provided: ***.'],
    ['openai', 'shout401', 502, 'AI response failed: INCORRECT API KEY PROVIDED: ***.'],
    ['anthropic', 'chat401', 502, 'AI response failed: Incorrect API key provided: ***.'],
    ['openai', 'chat429', 429, 'AI response failed: Rate limit reached for requests'],
    ['anthropic', 'chat429', 429, 'AI response failed: Rate limit reached for requests'],
    ['google', 'chat429', 429, 'AI response failed: Rate limit exceeded. Try Groq instead (free).'],
    ['google', 'quota403', 429, 'AI response failed: Rate limit exceeded. Try Groq instead (free).'],
    ['groq', 'chat500', 502, 'AI response failed: The server had an error while processing your request.'],
    ['google', 'chat500', 502, expect.stringMatching(/^AI response failed: .*500/)],
    ['openai', 'malformed', 502, expect.stringMatching(/^AI response failed: /)],
    ['deepseek', 'slow', 504, 'AI response failed: Request timeout'],
    ['google', 'slow', 504, 'AI response failed: Request timeout'],
    ['anthropic', 'cut', 502, expect.stringMatching(/^AI response failed: /)],
  ] as const)('C6 %s %s → %s with data.userMessage; the user message is kept; no key leaks', async (provider, behaviour, status, error) => {
    const app = ctx();
    const s = await registerUser(app);
    const { apiKey } = await connect(app, s, provider as FakeProvider, behaviour);
    const model = MODELS.find(([p]) => p === provider)![1];
    const conv = await newConversation(app, s, model);
    const res = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'hello?' });
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ ok: false, error, data: { userMessage: expect.objectContaining({ role: 'user', content: 'hello?' }) } });
    const stored = await app.deps.prisma.chatMessage.findMany({ where: { conversationId: conv.id } });
    expect(stored.map((m) => m.id)).toEqual([res.body.data.userMessage.id]);
    // in any letter case
    expect(JSON.stringify(res.body).toLowerCase()).not.toContain(apiKey.toLowerCase());
    expect(app.logs.join('').toLowerCase()).not.toContain(apiKey.toLowerCase());
  });

  it('C6 without a connected integration: 400 naming the provider; an undecryptable key: 500; both keep the user message', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const conv = await newConversation(app, s, 'model-gpt-4o');
    const none = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'a' });
    expect(none.status).toBe(400);
    expect(none.body).toMatchObject({ ok: false, error: 'No connected integration found for provider: openai', data: { userMessage: { content: 'a' } } });
    // an integration whose test failed is not connected either
    await connect(app, s, 'openai', 'badkey');
    expect((await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'b' })).status).toBe(400);
    await app.deps.prisma.integration.updateMany({ where: { userId: s.user.id }, data: { status: 'connected', apiKey: 'v1:not-a-real-ciphertext' } });
    const broken = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'c' });
    expect(broken.status).toBe(500);
    expect(broken.body).toMatchObject({ error: 'AI call failed: Failed to decrypt API key', data: { userMessage: { content: 'c' } } });
    expect(await app.deps.prisma.chatMessage.count({ where: { conversationId: conv.id } })).toBe(3);
  });

  it('a failed send keeps its question, marked failed, and never sends it to a model again', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const conv = await newConversation(app, s, 'model-gpt-4o');
    const send = (content: string) => app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content });
    const none = await send('Hello');
    expect(none.status).toBe(400);
    expect(none.body.data.userMessage).toMatchObject({ content: 'Hello', metadata: { failed: true, error: 'No connected integration found for provider: openai' } });
    const { integration } = await connect(app, s, 'openai', 'chat500');
    const upstream = await send('Hello');
    expect(upstream.status).toBe(502);
    expect(upstream.body.data.userMessage.metadata).toEqual({ failed: true, error: upstream.body.error });
    const key = fakeKey('ok');
    await app.http.put(`/api/integrations/${integration.id}`).set(s.auth).send({ apiKey: key.apiKey }).expect(200);
    const answered = await send('Hello there, is anyone home?');
    expect(answered.status).toBe(201);
    expect(answered.body.data.userMessage.metadata).toEqual({});
    expect((await send('Still there?')).status).toBe(201);
    const [first, second] = chatRequests(key.marker).map((call) => received('openai', call.body).turns);
    expect(first).toEqual([{ role: 'user', content: 'Hello there, is anyone home?' }]);
    expect(second).toEqual([
      { role: 'user', content: 'Hello there, is anyone home?' },
      { role: 'assistant', content: DEFAULT_REPLY },
      { role: 'user', content: 'Still there?' },
    ]);
    // the user still sees every question, the failed ones marked
    const full = (await app.http.get(`/api/conversations/${conv.id}`).set(s.auth)).body.data;
    expect(full.messages.map((m: { role: string; content: string; metadata: { failed?: boolean } }) => [m.role, m.content, m.metadata.failed === true])).toEqual([
      ['user', 'Hello', true], ['user', 'Hello', true],
      ['user', 'Hello there, is anyone home?', false], ['assistant', DEFAULT_REPLY, false],
      ['user', 'Still there?', false], ['assistant', DEFAULT_REPLY, false],
    ]);
  });

  it('the history window holds the last 9 turns a model may see, however many sends failed in between', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const conv = await newConversation(app, s, 'model-gpt-4o');
    const send = (body: object) => app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send(body);
    for (let i = 1; i <= 12; i++) expect((await send({ content: `old message ${i}`, getAiResponse: false })).status).toBe(201);
    for (let i = 1; i <= 10; i++) expect((await send({ content: `failed ${i}` })).status).toBe(400);
    const { marker } = await connect(app, s, 'openai');
    expect((await send({ content: 'the new question' })).status).toBe(201);
    const seen = received('openai', chatRequests(marker)[0]!.body);
    expect(seen.turns.map((t) => t.content)).toEqual([...Array.from({ length: 9 }, (_, i) => `old message ${i + 4}`), 'the new question']);
  });

  it('the history statement can use the index of replayable messages (its predicate matches the partial index)', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const conv = await newConversation(app, s, 'model-echo');
    const { replyContext } = await import('../../src/services/chat/send-message.js');
    const sql = replyContext.sql({ userId: s.user.id, params: { conversationId: conv.id }, query: undefined });
    // Forbid the alternatives so the plan shows whether the partial index qualifies at all.
    const plan = await app.deps.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe('SET LOCAL enable_seqscan = off');
      await tx.$executeRawUnsafe('SET LOCAL enable_bitmapscan = off');
      await tx.$executeRawUnsafe('DROP INDEX chat_messages_conversation_id_timestamp_id_idx');
      const rows = await tx.$queryRawUnsafe<{ 'QUERY PLAN': string }[]>(`EXPLAIN ${sql.text}`, ...sql.values);
      throw Object.assign(new Error('rollback'), { rows });
    }).catch((error: { rows?: { 'QUERY PLAN': string }[] }) => error.rows!.map((r) => r['QUERY PLAN']).join('\n'));
    expect(plan).toContain('chat_messages_context_idx');
  });

  it('the user message commits without waiting for its flush only when a synchronous commit follows before the answer', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const conv = await newConversation(app, s, 'model-gpt-4o');
    // The message and its activity are inserted by one statement (same xmin); a failure answered
    // without any later write rewrites the message's row under a synchronous commit first.
    const rewritten = async (content: string) => {
      const rows = await app.deps.db.query<{ same: boolean }>(
        `SELECT m.xmin::text = a.xmin::text AS same FROM chat_messages m JOIN activities a ON a.metadata->>'messageId' = m.id
          WHERE m.conversation_id = $1 AND m.role = 'user' AND m.content = $2`,
        [conv.id, content],
      );
      expect(rows).toHaveLength(1);
      return !rows[0]!.same;
    };
    expect((await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'no integration' })).status).toBe(400);
    expect(await rewritten('no integration')).toBe(true);
    await connect(app, s, 'openai', 'chat429');
    expect((await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'rate limited' })).status).toBe(429);
    expect(await rewritten('rate limited')).toBe(true);
    const stream = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'rate limited, streaming', stream: true });
    expect(parseSse(stream.text).at(-1)).toMatchObject({ event: 'error', data: { status: 429 } });
    expect(await rewritten('rate limited, streaming')).toBe(true);
    // Success: the assistant message's synchronous commit flushes the user message's too.
    await app.deps.prisma.integration.deleteMany({ where: { userId: s.user.id } });
    await connect(app, s, 'openai');
    expect((await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'answered' })).status).toBe(201);
    expect(await rewritten('answered')).toBe(false);
    // Without a reply the answer follows the write: it commits synchronously, nothing is rewritten.
    expect((await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'no reply', getAiResponse: false })).status).toBe(201);
    expect(await rewritten('no reply')).toBe(false);
    // The relaxed setting is local to that one transaction: no pooled session keeps it.
    const settings = await Promise.all(Array.from({ length: 12 }, () => app.deps.db.query<{ synchronous_commit: string }>('SHOW synchronous_commit')));
    expect(new Set(settings.map((rows) => rows[0]!.synchronous_commit))).toEqual(new Set(['on']));
  });

  it('unknown model ids answer through echo (§5.6), needing no integration', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const conv = await newConversation(app, s, 'model-something-new');
    const res = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'three little words' });
    expect(res.status).toBe(201);
    expect(res.body.data.assistantMessage).toMatchObject({
      content: '[Echo Mode] Received: three little words\n\nThis is a demo response. Connect an LLM provider to get real AI responses.',
      metadata: { tokens: 3, provider: 'echo', model_version: 'something-new', response_time_ms: expect.any(Number) },
    });
  });

  it('a model id configured on the integration routes to its provider instead of echo', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const { marker } = await connect(app, s, 'groq', 'ok', { modelId: 'qwen-qwq-32b' });
    const models = await app.http.get('/api/models/available').set(s.auth);
    const conv = await newConversation(app, s, models.body.data.models[0].id);
    const res = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'hi' });
    expect(res.body.data.assistantMessage.metadata).toMatchObject({ provider: 'groq', model_version: 'qwen-qwq-32b' });
    expect(chatRequests(marker)[0]!.body.model).toBe('qwen-qwq-32b');
  });

  it.each(['gemini-2.0-flash/../x', 'gemini-2.0-flash?alt=x#y', 'gemini%2e:x'])('a Gemini model id such as %s stays one encoded path segment', async (modelId) => {
    const app = ctx();
    const s = await registerUser(app);
    const { marker } = await connect(app, s, 'google', 'ok', { modelId });
    const conv = await newConversation(app, s, `model-${modelId}`);
    const send = (stream: boolean) => app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'hi', stream });
    expect((await send(false)).status).toBe(201);
    expect(parseSse((await send(true)).text).at(-1)!.event).toBe('done');
    expect(chatRequests(marker).map((r) => r.path)).toEqual([
      `/v1beta/models/${encodeURIComponent(modelId)}:generateContent`,
      `/v1beta/models/${encodeURIComponent(modelId)}:streamGenerateContent`,
    ]);
  });

  it('Google: a model answered 404 is retried once with GOOGLE_DEFAULT_MODEL, streaming or not; the reply names the model that served it', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const { marker } = await connect(app, s, 'google', 'ok', { modelId: 'gemini-retired-1.0' });
    const conv = await newConversation(app, s, 'model-gemini-retired-1.0');
    const json = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'hi' });
    expect(json.status).toBe(201);
    expect(json.body.data.assistantMessage).toMatchObject({ content: DEFAULT_REPLY, metadata: { provider: 'google', model_version: 'gemini-2.5-flash' } });
    const stream = parseSse((await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'again', stream: true })).text);
    expect(stream.filter((e) => e.event === 'delta').map((e) => e.data.text).join('')).toBe(DEFAULT_REPLY);
    expect(stream.at(-1)).toMatchObject({ event: 'done', data: { assistantMessage: { content: DEFAULT_REPLY, metadata: { model_version: 'gemini-2.5-flash' } } } });
    expect(chatRequests(marker).map((r) => r.path)).toEqual([
      '/v1beta/models/gemini-retired-1.0:generateContent',
      '/v1beta/models/gemini-2.5-flash:generateContent',
      '/v1beta/models/gemini-retired-1.0:streamGenerateContent',
      '/v1beta/models/gemini-2.5-flash:streamGenerateContent',
    ]);
    // The fallback got the same conversation.
    const [first, second] = chatRequests(marker);
    expect(second!.body).toEqual(first!.body);
  });

  it('Google: when the fallback fails too the error says so; a 404 of the default model itself is not retried and is no rate limit', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const { marker } = await connect(app, s, 'google', 'all404', { modelId: 'gemini-retired-1.0' });
    const conv = await newConversation(app, s, 'model-gemini-retired-1.0');
    const res = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'hi' });
    expect(res.status).toBe(502);
    expect(res.body.error).toMatch(/^AI response failed: Fallback also failed: gemini-retired-1\.0 was not found, then gemini-2\.5-flash: .*404/);
    expect(chatRequests(marker)).toHaveLength(2);
    const plain = await newConversation(app, s, 'model-gemini-2.5-flash');
    const direct = await app.http.post(`/api/conversations/${plain.id}/messages`).set(s.auth).send({ content: 'hi' });
    expect(direct.status).toBe(502);
    expect(direct.body.error).toMatch(/^AI response failed: .*404.*is not found/);
    expect(direct.body.error).not.toContain('Fallback');
    expect(chatRequests(marker)).toHaveLength(3);
  });

  it('bad input never reaches a 500', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const conv = await newConversation(app, s, 'model-echo');
    const send = (body: unknown) => app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send(body as object);
    expect((await send({})).body.error).toEqual({ content: ['This field is required.'] });
    expect((await send({ content: '   ' })).body.error).toEqual({ content: ['This field may not be blank.'] });
    expect((await send({ content: 'x', getAiResponse: 'maybe' })).body.error).toEqual({ getAiResponse: ['Must be a valid boolean.'] });
    expect((await send({ content: 'x', stream: 'x' })).body.error).toEqual({ stream: ['Must be a valid boolean.'] });
    expect((await send({ content: 'x', role: 'robot' })).body.error).toEqual({ role: ['"robot" is not a valid choice.'] });
    expect((await send({ content: 'x'.repeat(100_001) })).body.error).toEqual({ content: ['Ensure this field has no more than 100000 characters.'] });
    const huge = await send({ content: 'x'.repeat(1024 * 1024) });
    expect(huge.status).toBe(413);
    expect(huge.body).toEqual({ ok: false, data: null, error: 'Request body too large' });
    expect(await app.deps.prisma.chatMessage.count({ where: { conversationId: conv.id } })).toBe(0);
    await app.http.delete(`/api/conversations/${conv.id}`).set(s.auth).expect(200);
    const gone = await send({ content: 'anyone there?' });
    expect(gone.status).toBe(404);
    expect(gone.body.error).toBe('Conversation not found');
  });

  it('observers read but may not send; strangers get 403', async () => {
    const app = ctx();
    const owner = await registerUser(app);
    const observer = await registerUser(app);
    const stranger = await registerUser(app);
    const conv = await newConversation(app, owner, 'model-echo');
    await addMember(app, conv.workspaceId, observer, 'observer');
    expect((await app.http.get(`/api/conversations/${conv.id}`).set(observer.auth)).status).toBe(200);
    const denied = await app.http.post(`/api/conversations/${conv.id}/messages`).set(observer.auth).send({ content: 'hi' });
    expect(denied.status).toBe(403);
    expect((await app.http.post(`/api/conversations/${conv.id}/messages`).set(stranger.auth).send({ content: 'hi' })).status).toBe(403);
    expect(await app.deps.prisma.chatMessage.count({ where: { conversationId: conv.id } })).toBe(0);
  });

  it('concurrent sends into one conversation: every message stored once, each reply after its question', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const { marker } = await connect(app, s, 'openai');
    const conv = await newConversation(app, s, 'model-gpt-4o');
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: `parallel ${i}` })));
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(201));
    const full = (await app.http.get(`/api/conversations/${conv.id}`).set(s.auth)).body.data;
    expect(full.messages).toHaveLength(12);
    for (const r of results) {
      const u = full.messages.findIndex((m: { id: string }) => m.id === r.body.data.userMessage.id);
      const a = full.messages.findIndex((m: { id: string }) => m.id === r.body.data.assistantMessage.id);
      expect(u).toBeGreaterThanOrEqual(0);
      expect(a).toBeGreaterThan(u);
    }
    // each provider call carried its own turn exactly once
    for (const call of chatRequests(marker)) {
      const last = call.body.messages.at(-1).content;
      expect(call.body.messages.filter((m: { content: string }) => m.content === last)).toHaveLength(1);
    }
    const list = (await app.http.get(`/api/workspaces/${conv.workspaceId}/conversations`).set(s.auth)).body.data;
    expect(list.conversations.find((c: { id: string }) => c.id === conv.id).messageCount).toBe(12);
    expect(await app.deps.prisma.activity.count({ where: { workspaceId: conv.workspaceId, type: 'message_sent' } })).toBe(12);
  });

  it('retrieval-augmented chat (D13): top workspace memories join the context; ids recorded in metadata', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const other = await registerUser(app);
    const { marker } = await connect(app, s, 'openai');
    const conv = await newConversation(app, s, 'model-gpt-4o');
    const relevant = await createMemory(app, conv.workspaceId, { title: 'Deployment notes', content: 'The staging cluster deploys every Tuesday via the blue pipeline.' });
    await createMemory(app, conv.workspaceId, { title: 'Lunch', content: 'Pizza on Fridays.' });
    const foreign = await createMemory(app, await defaultWorkspaceId(app, other), { title: 'Other deployment', content: 'Another team deploys the staging cluster daily.' });
    const res = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'When does the staging cluster deploy?', autoRetrieve: true });
    expect(res.status).toBe(201);
    expect(res.body.data.assistantMessage.metadata.retrievedMemoryIds).toEqual([relevant.id]);
    const system = received('openai', chatRequests(marker).at(-1)!.body).system;
    expect(system).toContain('=== Retrieved Context ===');
    expect(system).toContain('[Deployment notes]\nThe staging cluster deploys every Tuesday via the blue pipeline.');
    expect(system).not.toContain(foreign.content);
    expect(system).not.toContain('Pizza');
    // off by default; the workspace setting turns it on
    const plain = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'staging cluster?' });
    expect(plain.body.data.assistantMessage.metadata.retrievedMemoryIds).toBeUndefined();
    await app.http.put(`/api/workspaces/${conv.workspaceId}`).set(s.auth).send({ settings: { autoRetrieve: true } }).expect(200);
    const auto = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'staging cluster deploy day?' });
    expect(auto.body.data.assistantMessage.metadata.retrievedMemoryIds).toEqual([relevant.id]);
    const optedOut = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'staging cluster?', autoRetrieve: false });
    expect(optedOut.body.data.assistantMessage.metadata.retrievedMemoryIds).toBeUndefined();
  });

  describe_streaming: {
    it.each(MODELS)('streams through %s: delta events, then done with the stored messages', async (provider, modelId) => {
      const app = ctx();
      const s = await registerUser(app);
      await connect(app, s, provider);
      const conv = await newConversation(app, s, modelId);
      const res = await fetch(`${server.url}/api/conversations/${conv.id}/messages`, {
        method: 'POST',
        headers: { ...s.auth, 'content-type': 'application/json', accept: provider === 'openai' ? 'text/event-stream' : '*/*' },
        body: JSON.stringify(provider === 'openai' ? { content: 'stream please' } : { content: 'stream please', stream: true }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const events = parseSse(await res.text());
      const deltas = events.filter((e) => e.event === 'delta');
      expect(deltas.length).toBeGreaterThan(1);
      expect(deltas.map((e) => e.data.text).join('')).toBe(DEFAULT_REPLY);
      const done = events.at(-1)!;
      expect(done.event).toBe('done');
      expect(done.data.assistantMessage).toMatchObject({ role: 'assistant', content: DEFAULT_REPLY, metadata: { provider, tokens: 33 } });
      const full = (await app.http.get(`/api/conversations/${conv.id}`).set(s.auth)).body.data;
      expect(full.messages).toEqual([done.data.userMessage, done.data.assistantMessage]);
    });

    it.each(['openai', 'anthropic', 'google'] as const)('%s stream cut midway: error event; the partial reply is stored as incomplete', async (provider) => {
      const app = ctx();
      const s = await registerUser(app);
      await connect(app, s, provider, 'cut');
      const conv = await newConversation(app, s, MODELS.find(([p]) => p === provider)![1]);
      const res = await fetch(`${server.url}/api/conversations/${conv.id}/messages`, {
        method: 'POST', headers: { ...s.auth, 'content-type': 'application/json' }, body: JSON.stringify({ content: 'go', stream: true }),
      });
      const events = parseSse(await res.text());
      expect(events.filter((e) => e.event === 'delta').map((e) => e.data.text).join('')).toBe('Hello from');
      const error = events.at(-1)!;
      expect(error.event).toBe('error');
      expect(error.data).toMatchObject({ status: 502, error: expect.stringMatching(/^AI response failed: /), userMessage: { content: 'go' }, assistantMessage: { content: 'Hello from', metadata: { incomplete: true } } });
      expect(await app.deps.prisma.chatMessage.count({ where: { conversationId: conv.id } })).toBe(2);
    });

    it('a stream cut midway leaves neither its question nor the partial reply in later calls', async () => {
      const app = ctx();
      const s = await registerUser(app);
      const { integration } = await connect(app, s, 'anthropic', 'cut');
      const conv = await newConversation(app, s, 'model-claude-3.5-sonnet');
      const stream = async (content: string) => {
        const res = await fetch(`${server.url}/api/conversations/${conv.id}/messages`, {
          method: 'POST', headers: { ...s.auth, 'content-type': 'application/json' }, body: JSON.stringify({ content, stream: true }),
        });
        return parseSse(await res.text()).at(-1)!;
      };
      const cut = await stream('Hello');
      expect(cut.event).toBe('error');
      expect(cut.data.userMessage.metadata).toEqual({ failed: true, error: cut.data.error });
      expect(cut.data.assistantMessage).toMatchObject({ content: 'Hello from', metadata: { incomplete: true } });
      const key = fakeKey('ok');
      await app.http.put(`/api/integrations/${integration.id}`).set(s.auth).send({ apiKey: key.apiKey }).expect(200);
      const done = await stream('Hello there, anyone home?');
      expect(done.event).toBe('done');
      expect(done.data.userMessage.metadata).toEqual({});
      expect(received('anthropic', chatRequests(key.marker)[0]!.body).turns).toEqual([{ role: 'user', content: 'Hello there, anyone home?' }]);
      const stored = await app.deps.prisma.chatMessage.findMany({ where: { conversationId: conv.id }, orderBy: { timestamp: 'asc' } });
      expect(stored.map((m) => m.content)).toEqual(['Hello', 'Hello from', 'Hello there, anyone home?', DEFAULT_REPLY]);
    });

    it('a provider error before any text streams as an error event', async () => {
      const app = ctx();
      const s = await registerUser(app);
      await connect(app, s, 'openai', 'chat429');
      const conv = await newConversation(app, s, 'model-gpt-4o');
      const res = await fetch(`${server.url}/api/conversations/${conv.id}/messages`, {
        method: 'POST', headers: { ...s.auth, 'content-type': 'application/json' }, body: JSON.stringify({ content: 'go', stream: true }),
      });
      expect(parseSse(await res.text())).toEqual([
        { event: 'citations', data: { citations: [] } },
        { event: 'error', data: { status: 429, error: 'AI response failed: Rate limit reached for requests', userMessage: expect.objectContaining({ content: 'go' }) } },
      ]);
      // checks that fail before the provider call keep their JSON status
      const none = await fetch(`${server.url}/api/conversations/${conv.id}/messages`, {
        method: 'POST', headers: { ...s.auth, 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ content: '' }),
      });
      expect(none.status).toBe(400);
    });

    it('a client that disconnects mid-stream aborts the provider request; the partial reply is stored as incomplete', async () => {
      const app = ctx();
      const s = await registerUser(app);
      const { marker } = await connect(app, s, 'openai', 'drip');
      const conv = await newConversation(app, s, 'model-gpt-4o');
      const controller = new AbortController();
      const res = await fetch(`${server.url}/api/conversations/${conv.id}/messages`, {
        method: 'POST', headers: { ...s.auth, 'content-type': 'application/json' }, body: JSON.stringify({ content: 'long answer please', stream: true }), signal: controller.signal,
      });
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes('piece2 ')) text += new TextDecoder().decode((await reader.read()).value);
      controller.abort();
      const partial = await eventually(() => app.deps.prisma.chatMessage.findFirst({ where: { conversationId: conv.id, role: 'assistant' } }));
      expect(partial.content).toMatch(/^piece0 piece1 piece2 /);
      expect(partial.content.length).toBeLessThan(200 * 7);
      expect(partial.metadata).toMatchObject({ incomplete: true, provider: 'openai' });
      await eventually(async () => chatRequests(marker)[0]!.aborted);
    });
  }
}, env);
