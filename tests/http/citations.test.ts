/**
 * Citations: every reply records the memories its prompt held (`metadata.citations`), a
 * streamed reply announces them before its first delta, and a conversation read later shows
 * a deleted memory's citation by title with `memoryId: null`.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStorage, type TestApp } from '../support/app.js';
import { connect, createMemory, listen, newConversation, parseSse } from '../support/chat.js';
import { registerUser, type Session } from '../support/factories.js';
import { startFakeProviders } from '../support/fake-providers.js';

const fake = await startFakeProviders();
afterAll(() => fake.close());

const QUESTION = 'When does the staging cluster deploy?';

/** A conversation with one active and one paused injected memory, and workspace memories to retrieve. */
async function scene(app: TestApp, s: Session, behaviour = 'ok') {
  await connect(app, s, 'openai', behaviour);
  const conv = await newConversation(app, s, 'model-gpt-4o');
  const injected = await createMemory(app, conv.workspaceId, { title: 'Launch plan', content: 'We launch on Friday after the final review.' });
  const paused = await createMemory(app, conv.workspaceId, { title: 'Paused note', content: 'Not in the prompt while paused.' });
  const relevant = await createMemory(app, conv.workspaceId, { title: 'Deployment notes', content: 'The staging cluster deploys every Tuesday via the blue pipeline.' });
  await createMemory(app, conv.workspaceId, { title: 'Lunch', content: 'Pizza on Fridays.' });
  for (const m of [injected, paused]) await app.http.post(`/api/conversations/${conv.id}/inject-memory`).set(s.auth).send({ memoryId: m.id }).expect(200);
  await app.http.put(`/api/conversations/${conv.id}/inject-memory/${paused.id}/toggle`).set(s.auth).expect(200);
  const expected = [
    { memoryId: injected.id, title: 'Launch plan', score: null, how: 'injected' },
    { memoryId: relevant.id, title: 'Deployment notes', score: expect.any(Number), how: 'retrieved' },
  ];
  return { conv, injected, expected };
}

describeEachStorage('citations', (ctx) => {
  let server: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    server = await listen(ctx());
  });
  afterAll(() => server.close());

  it('a reply cites its injected and retrieved memories; GET shows them; a deleted memory stays cited by title', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const { conv, injected, expected } = await scene(app, s);
    const res = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: QUESTION, autoRetrieve: true });
    expect(res.status).toBe(201);
    const { userMessage, assistantMessage } = res.body.data;
    expect(userMessage.metadata).toEqual({});
    expect(assistantMessage.metadata.citations).toEqual(expected);
    const score = assistantMessage.metadata.citations[1].score;
    expect(score).toBeGreaterThan(0);
    expect(score).toBeLessThanOrEqual(1);
    // without retrieval only the injected memory is cited
    const plain = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'And the launch?' });
    expect(plain.body.data.assistantMessage.metadata.citations).toEqual([expected[0]]);

    const read = async () => (await app.http.get(`/api/conversations/${conv.id}`).set(s.auth).expect(200)).body.data.messages;
    expect((await read()).map((m: { metadata: { citations?: unknown } }) => m.metadata.citations)).toEqual([undefined, expected, undefined, [expected[0]]]);

    await app.http.delete(`/api/memories/${injected.id}`).set(s.auth).expect(200);
    const gone = { ...expected[0], memoryId: null };
    const shown = [undefined, [gone, expected[1]], undefined, [gone]];
    const citationsOf = (messages: { metadata: { citations?: unknown } }[]) => messages.map((m) => m.metadata.citations);
    expect(citationsOf(await read())).toEqual(shown);
    // every conversation answer shows them the same way
    const renamed = await app.http.put(`/api/conversations/${conv.id}`).set(s.auth).send({ title: 'Renamed' }).expect(200);
    expect(citationsOf(renamed.body.data.messages)).toEqual(shown);
    const closed = await app.http.post(`/api/conversations/${conv.id}/close`).set(s.auth).expect(200);
    expect(citationsOf(closed.body.data.conversation.messages)).toEqual(shown);
    const reopened = await app.http.post(`/api/conversations/${conv.id}/reopen`).set(s.auth).expect(200);
    expect(citationsOf(reopened.body.data.conversation.messages)).toEqual(shown);
    // the next reply no longer has the deleted memory in its prompt
    const after = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'Anything else?' });
    expect(after.body.data.assistantMessage.metadata.citations).toEqual([]);

    // deleting a memory that was only retrieved moves the conversation's poll ETag too
    const polled = await app.http.get(`/api/conversations/${conv.id}`).set(s.auth).expect(200);
    await app.http.delete(`/api/memories/${expected[1]!.memoryId}`).set(s.auth).expect(200);
    const repoll = await app.http.get(`/api/conversations/${conv.id}`).set(s.auth).set('If-None-Match', polled.headers.etag as string);
    expect(repoll.status).toBe(200);
    expect(citationsOf(repoll.body.data.messages)[1]).toEqual([gone, { ...expected[1], memoryId: null }]);
  });

  it('a memory the context budget leaves out is not cited', async () => {
    const app = ctx();
    const s = await registerUser(app);
    await connect(app, s, 'openai');
    const conv = await newConversation(app, s, 'model-gpt-4o');
    const big = await createMemory(app, conv.workspaceId, { title: 'Big', content: 'x'.repeat(2000) });
    const small = await createMemory(app, conv.workspaceId, { title: 'Small', content: 'left out' });
    for (const m of [big, small]) await app.http.post(`/api/conversations/${conv.id}/inject-memory`).set(s.auth).send({ memoryId: m.id }).expect(200);
    const res = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'hi' });
    expect(res.body.data.assistantMessage.metadata.citations).toEqual([{ memoryId: big.id, title: 'Big', score: null, how: 'injected' }]);
  });

  it('a streamed reply sends its citations before the first delta; a reply cut short keeps them', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const { conv, expected } = await scene(app, s);
    const stream = async (session: Session, conversationId: string) => {
      const res = await fetch(`${server.url}/api/conversations/${conversationId}/messages`, {
        method: 'POST', headers: { ...session.auth, 'content-type': 'application/json' }, body: JSON.stringify({ content: QUESTION, stream: true, autoRetrieve: true }),
      });
      expect(res.status).toBe(200);
      return parseSse(await res.text());
    };
    const events = await stream(s, conv.id);
    expect(events[0]).toEqual({ event: 'citations', data: { citations: expected } });
    expect(events.filter((e) => e.event === 'citations')).toHaveLength(1);
    expect(events[1]!.event).toBe('delta');
    const done = events.at(-1)!;
    expect(done.event).toBe('done');
    expect(done.data.assistantMessage.metadata.citations).toEqual(events[0]!.data.citations);

    const t = await registerUser(app);
    const cut = await scene(app, t, 'cut');
    const cutEvents = await stream(t, cut.conv.id);
    expect(cutEvents[0]).toEqual({ event: 'citations', data: { citations: cut.expected } });
    const error = cutEvents.at(-1)!;
    expect(error.event).toBe('error');
    expect(error.data.assistantMessage.metadata).toMatchObject({ incomplete: true, citations: cut.expected });
  });
}, { ...fake.env, CONTEXT_MEMORY_CHARS: '2000' });
