/**
 * Issue 19: facts extracted from conversations and consolidated into memories, with history.
 * The fake provider answers the extraction's two questions from a script per test.
 */
import { afterAll, beforeEach, expect, it } from 'vitest';
import { createDeps } from '../../src/bootstrap.js';
import { claimExtraction, finishExtraction } from '../../src/data/conversation-extractions.js';
import { softDeleteMemoryTx } from '../../src/services/memories/service.js';
import { cleanupForUser } from '../../src/services/settings/retention.js';
import { type TestApp, describeEachStorage } from '../support/app.js';
import { addMember, connect, newConversation } from '../support/chat.js';
import { registerUser, type Session } from '../support/factories.js';
import { type ScriptedPrompt, startFakeProviders } from '../support/fake-providers.js';
import { addMemory } from '../support/memories.js';

const fake = await startFakeProviders();
afterAll(() => fake.close());

const env = { ...fake.env, LLM_TIMEOUT: '5s', INTEGRATION_TEST_TIMEOUT: '5s' };

const isExtraction = (p: ScriptedPrompt) => p.system.startsWith('You extract the facts');

/** The consolidation prompt's memories as alias → text. */
const candidatesOf = (p: ScriptedPrompt) =>
  new Map(p.turns[0]!.content.split('\n').flatMap((line) => {
    const m = /^(m\d+): (.*)$/.exec(line);
    return m ? [[m[1]!, m[2]!] as const] : [];
  }));

/** The alias of the candidate whose text contains `text`. */
const aliasOf = (p: ScriptedPrompt, text: string) => [...candidatesOf(p)].find(([, t]) => t.includes(text))?.[0];

/** Scripts both questions for `marker`; returns the prompts the fake received. */
function script(marker: string, answers: { facts: (p: ScriptedPrompt) => unknown; actions?: (p: ScriptedPrompt) => unknown }) {
  const prompts: ScriptedPrompt[] = [];
  fake.script(marker, (p) => {
    prompts.push(p);
    const answer = isExtraction(p) ? answers.facts(p) : answers.actions?.(p);
    return typeof answer === 'string' ? answer : JSON.stringify(answer);
  });
  return prompts;
}

/** The message ids of the extraction prompt's transcript, in order. */
const messageIdsOf = (p: ScriptedPrompt) => [...p.turns[0]!.content.matchAll(/^\[(msg-[0-9a-f]+)\]/gm)].map((m) => m[1]!);

async function say(app: TestApp, s: Session, conversationId: string, content: string): Promise<string> {
  const res = await app.http.post(`/api/conversations/${conversationId}/messages`).set(s.auth).send({ content, getAiResponse: false });
  expect(res.status).toBe(201);
  return res.body.data.userMessage.id;
}

async function setAutoExtract(app: TestApp, workspaceId: string, on: boolean) {
  await app.deps.prisma.workspace.update({ where: { id: workspaceId }, data: { autoExtract: on } });
}

const history = async (app: TestApp, s: Session, memoryId: string) => {
  const res = await app.http.get(`/api/memories/${memoryId}/history`).set(s.auth);
  expect(res.status).toBe(200);
  return res.body.data as { memoryId: string; deleted: boolean; versions: { version: number; action: string; content: string; provenance: Record<string, unknown> }[] };
};

const conversationOf = async (app: TestApp, s: Session, id: string) => (await app.http.get(`/api/conversations/${id}`).set(s.auth)).body.data;

describeEachStorage('fact extraction and memory history', (ctx) => {
  let s: Session;
  let marker: string;
  let workspaceId: string;
  beforeEach(async () => {
    s = await registerUser(ctx());
    ({ marker } = await connect(ctx(), s, 'openai'));
    workspaceId = (await ctx().deps.prisma.workspace.findFirstOrThrow({ where: { ownerId: s.user.id } })).id;
  });

  it('a close with autoExtract answers at once; then a duplicate is NONE, a contradiction UPDATEs the older fact (its version kept), an unrelated fact is ADDed', async () => {
    const app = ctx();
    const launch = await addMemory(app, s, workspaceId, { title: 'Launch day', content: 'The launch is on Friday.' });
    const colour = await addMemory(app, s, workspaceId, { title: 'Favourite colour', content: 'The user likes teal.' });
    const conv = await newConversation(app, s, 'model-gpt-4o', workspaceId);
    const m1 = await say(app, s, conv.id, 'We moved the launch to Monday.');
    const m2 = await say(app, s, conv.id, 'I still like teal.');
    const m3 = await say(app, s, conv.id, 'Our database is PostgreSQL 16.');
    const prompts = script(marker, {
      facts: () => ({
        facts: [
          { text: 'The launch is on Monday.', messageIds: [m1] },
          { text: 'The user likes teal.', messageIds: [m2] },
          { text: 'The team uses PostgreSQL 16.', messageIds: [m3, 'msg-invented'] },
        ],
      }),
      actions: (p) => ({
        actions: [
          { event: 'UPDATE', fact: 0, memory: aliasOf(p, 'Friday'), text: 'The launch is on Monday (moved from Friday).' },
          { event: 'NONE', fact: 1, memory: aliasOf(p, 'teal') },
          { event: 'ADD', fact: 2 },
        ],
      }),
    });
    await setAutoExtract(app, workspaceId, true);

    const closed = await app.http.post(`/api/conversations/${conv.id}/close`).set(s.auth);
    expect(closed.status).toBe(200);
    // The close answered before any provider call; the transcript memory waits for a fallback.
    expect(prompts).toHaveLength(0);
    expect(closed.body.data.memory).toBeNull();
    expect(closed.body.data.conversation.extraction).toMatchObject({ status: 'pending', error: null, throughMessageId: null });

    await app.deps.extractions.drain();
    expect(prompts).toHaveLength(2);
    expect(messageIdsOf(prompts[0]!)).toEqual([m1, m2, m3]);
    const after = await conversationOf(app, s, conv.id);
    expect(after.extraction).toMatchObject({
      status: 'done', error: null, throughMessageId: m3,
      result: { facts: 3, added: 1, updated: 1, deleted: 0, unchanged: 1, calls: 2, tokens: expect.any(Number) },
    });
    expect(after.extraction.result.tokens).toBeGreaterThan(0);

    const updated = await app.http.get(`/api/memories/${launch.id}`).set(s.auth);
    expect(updated.body.data).toMatchObject({ content: 'The launch is on Monday (moved from Friday).', version: 2 });
    const launchHistory = await history(app, s, launch.id);
    expect(launchHistory.deleted).toBe(false);
    expect(launchHistory.versions.map((v) => [v.version, v.action, v.content])).toEqual([
      [2, 'UPDATE', 'The launch is on Monday (moved from Friday).'],
      [1, 'ADD', 'The launch is on Friday.'],
    ]);
    expect(launchHistory.versions[0]!.provenance).toEqual({ source: 'conversation', conversationId: conv.id, messageIds: [m1], model: 'gpt-4o' });
    expect(launchHistory.versions[1]!.provenance).toEqual({ source: 'user', userId: s.user.id });
    expect((await history(app, s, colour.id)).versions).toHaveLength(1);

    const added = await app.deps.prisma.memory.findFirstOrThrow({ where: { workspaceId, content: 'The team uses PostgreSQL 16.' } });
    expect(added.tags).toContain('extracted');
    const addedHistory = await history(app, s, added.id);
    // Message ids the model invented are dropped from the provenance.
    expect(addedHistory.versions).toEqual([expect.objectContaining({ version: 1, action: 'ADD', provenance: { source: 'conversation', conversationId: conv.id, messageIds: [m3], model: 'gpt-4o' } })]);
    expect(await app.deps.prisma.memory.count({ where: { workspaceId } })).toBe(3);

    // Idempotent: extracting again asks nothing and changes nothing.
    const versions = await app.deps.prisma.memoryVersion.count({ where: { workspaceId } });
    const again = await app.http.post(`/api/conversations/${conv.id}/extract`).set(s.auth);
    expect(again.status).toBe(202);
    expect(again.body.data.extraction.status).toBe('pending');
    await app.deps.extractions.drain();
    expect(prompts).toHaveLength(2);
    expect(await app.deps.prisma.memoryVersion.count({ where: { workspaceId } })).toBe(versions);
    expect(await app.deps.prisma.memory.count({ where: { workspaceId } })).toBe(3);
    expect((await conversationOf(app, s, conv.id)).extraction).toMatchObject({ status: 'done', throughMessageId: m3, result: { facts: 0 } });

    // A later message is extracted alone.
    const m4 = await say(app, s, conv.id, 'Nothing new really.');
    prompts.length = 0;
    script(marker, { facts: (p) => (prompts.push(p), { facts: [] }) });
    await app.http.post(`/api/conversations/${conv.id}/extract`).set(s.auth).expect(202);
    await app.deps.extractions.drain();
    expect(prompts.map(messageIdsOf)).toEqual([[m4]]);
  });

  it('a contradiction can DELETE the older fact: soft, its history kept and restorable by an editor, never by an observer', async () => {
    const app = ctx();
    const office = await addMemory(app, s, workspaceId, { title: 'Office', content: 'The office is in Berlin.', tags: ['place'] });
    const conv = await newConversation(app, s, 'model-gpt-4o', workspaceId);
    const m1 = await say(app, s, conv.id, 'The office moved to Paris last week.');
    script(marker, {
      facts: () => ({ facts: [{ text: 'The office is in Paris.', messageIds: [m1] }] }),
      actions: (p) => ({ actions: [{ event: 'DELETE', fact: 0, memory: aliasOf(p, 'Berlin') }, { event: 'ADD', fact: 0 }] }),
    });
    await app.http.post(`/api/conversations/${conv.id}/extract`).set(s.auth).expect(202);
    await app.deps.extractions.drain();
    expect((await conversationOf(app, s, conv.id)).extraction.result).toMatchObject({ facts: 1, added: 1, deleted: 1 });

    expect((await app.http.get(`/api/memories/${office.id}`).set(s.auth)).status).toBe(404);
    const search = await app.http.post('/api/memories/search').set(s.auth).send({ query: 'office Berlin', workspaceId });
    expect(search.body.data.results.map((r: { id: string }) => r.id)).not.toContain(office.id);
    const kept = await history(app, s, office.id);
    expect(kept.deleted).toBe(true);
    expect(kept.versions.map((v) => [v.version, v.action, v.content])).toEqual([[2, 'DELETE', 'The office is in Berlin.'], [1, 'ADD', 'The office is in Berlin.']]);
    expect(kept.versions[0]!.provenance).toMatchObject({ source: 'conversation', conversationId: conv.id, messageIds: [m1] });

    const observer = await registerUser(app);
    await addMember(app, workspaceId, observer, 'observer');
    expect((await app.http.get(`/api/memories/${office.id}/history`).set(observer.auth)).status).toBe(200);
    expect((await app.http.post(`/api/memories/${office.id}/history/1/restore`).set(observer.auth)).status).toBe(403);
    expect((await app.http.post(`/api/memories/${office.id}/history/9/restore`).set(s.auth)).status).toBe(404);
    expect((await app.http.post(`/api/memories/${office.id}/history/x/restore`).set(s.auth)).status).toBe(404);
    const outsider = await registerUser(app);
    expect((await app.http.get(`/api/memories/${office.id}/history`).set(outsider.auth)).status).toBe(403);

    const restored = await app.http.post(`/api/memories/${office.id}/history/1/restore`).set(s.auth);
    expect(restored.status).toBe(200);
    expect(restored.body.data).toMatchObject({ id: office.id, content: 'The office is in Berlin.', tags: ['place'], version: 3, embeddingStatus: 'pending' });
    const back = await history(app, s, office.id);
    expect(back.deleted).toBe(false);
    expect(back.versions[0]).toMatchObject({ version: 3, action: 'RESTORE', provenance: { source: 'user', userId: s.user.id } });

    // An edit is a version too, with the editing user as its provenance; restoring a live memory's older version is another.
    await app.http.put(`/api/memories/${office.id}`).set(s.auth).send({ content: 'The office is in Berlin, Mitte.' }).expect(200);
    await app.http.post(`/api/memories/${office.id}/history/3/restore`).set(s.auth).expect(200);
    expect((await history(app, s, office.id)).versions.slice(0, 2).map((v) => [v.version, v.action, v.content, v.provenance.userId])).toEqual([
      [5, 'RESTORE', 'The office is in Berlin.', s.user.id],
      [4, 'EDIT', 'The office is in Berlin, Mitte.', s.user.id],
    ]);

    // A user's deletion is for good: the history goes with the memory.
    await app.http.delete(`/api/memories/${office.id}`).set(s.auth).expect(200);
    expect((await app.http.get(`/api/memories/${office.id}/history`).set(s.auth)).status).toBe(404);
  });

  it('invalid JSON is asked again once; still invalid, the run falls back to the transcript memory and says why', async () => {
    const app = ctx();
    const conv = await newConversation(app, s, 'model-gpt-4o', workspaceId);
    const m1 = await say(app, s, conv.id, 'Remember that the budget is 40k.');
    let calls = 0;
    script(marker, { facts: () => (++calls === 1 ? 'Sure! Here are the facts: budget 40k' : { facts: [{ text: 'The budget is 40k.', messageIds: [m1] }] }) });
    await app.http.post(`/api/conversations/${conv.id}/extract`).set(s.auth).expect(202);
    await app.deps.extractions.drain();
    expect(calls).toBe(2);
    expect((await conversationOf(app, s, conv.id)).extraction).toMatchObject({ status: 'done', result: { facts: 1, added: 1, calls: 2 } });

    const other = await newConversation(app, s, 'model-gpt-4o', workspaceId);
    await say(app, s, other.id, 'The deadline is in March.');
    const prompts = script(marker, { facts: () => '{"facts": [{"text": 42}]}' });
    await setAutoExtract(app, workspaceId, true);
    await app.http.post(`/api/conversations/${other.id}/close`).set(s.auth).expect(200);
    await app.deps.extractions.drain();
    expect(prompts).toHaveLength(2);
    // The retry showed the model its answer and what was wrong with it.
    expect(prompts[1]!.turns.map((t) => t.role)).toEqual(['user', 'assistant', 'user']);
    expect(prompts[1]!.turns[2]!.content).toMatch(/required shape/);
    const failed = await conversationOf(app, s, other.id);
    expect(failed.extraction).toMatchObject({ status: 'fallback', error: expect.stringMatching(/not valid after one retry/), throughMessageId: null });
    const row = await app.deps.prisma.conversation.findUniqueOrThrow({ where: { id: other.id } });
    const transcript = await app.deps.prisma.memory.findUniqueOrThrow({ where: { id: row.summaryMemoryId! } });
    expect(transcript.content).toBe('User: The deadline is in March.');
    expect(transcript.tags).toContain('conversation-summary');
    expect(failed.extraction.result.transcriptMemoryId).toBe(transcript.id);
    expect((await history(app, s, transcript.id)).versions[0]!.provenance).toMatchObject({ source: 'conversation', conversationId: other.id });
  });

  it('without a usable integration the run falls back to the transcript memory; with autoExtract off a close is as before', async () => {
    const app = ctx();
    const conv = await newConversation(app, s, 'model-claude-3-haiku', workspaceId);
    await say(app, s, conv.id, 'Claude has no key here.');
    await app.http.post(`/api/conversations/${conv.id}/extract`).set(s.auth).expect(202);
    await app.deps.extractions.drain();
    const state = await conversationOf(app, s, conv.id);
    expect(state.extraction).toMatchObject({ status: 'fallback', error: 'No connected integration found for provider: anthropic' });
    expect(state.extraction.result.transcriptMemoryId).toEqual(expect.any(String));

    const plain = await newConversation(app, s, 'model-gpt-4o', workspaceId);
    await say(app, s, plain.id, 'No extraction here.');
    const closed = await app.http.post(`/api/conversations/${plain.id}/close`).set(s.auth);
    expect(closed.body.data.memory).toMatchObject({ title: 'Chat test' });
    expect(closed.body.data.conversation.extraction).toBeNull();
  });

  it('observers cannot extract; similar memories of another workspace are never compared', async () => {
    const app = ctx();
    const observer = await registerUser(app);
    await addMember(app, workspaceId, observer, 'observer');
    const conv = await newConversation(app, s, 'model-gpt-4o', workspaceId);
    const m1 = await say(app, s, conv.id, 'The launch is on Monday.');
    expect((await app.http.post(`/api/conversations/${conv.id}/extract`).set(observer.auth)).status).toBe(403);
    expect(await app.deps.prisma.conversationExtraction.count({ where: { conversationId: conv.id } })).toBe(0);

    const elsewhere = await app.http.post('/api/workspaces').set(s.auth).send({ name: 'Elsewhere' });
    await addMemory(app, s, elsewhere.body.data.id, { title: 'Launch elsewhere', content: 'The launch is on Sunday, secret.' });
    await addMemory(app, s, workspaceId, { title: 'Launch', content: 'The launch is on Friday.' });
    const prompts = script(marker, {
      facts: () => ({ facts: [{ text: 'The launch is on Monday.', messageIds: [m1] }] }),
      actions: () => ({ actions: [{ event: 'ADD', fact: 0 }] }),
    });
    await app.http.post(`/api/conversations/${conv.id}/extract`).set(s.auth).expect(202);
    await app.deps.extractions.drain();
    expect(prompts).toHaveLength(2);
    expect(prompts[1]!.turns[0]!.content).toContain('Friday');
    expect(prompts[1]!.turns[0]!.content).not.toContain('secret');
    // A consolidation naming a memory it was not shown is invalid.
    const conv2 = await newConversation(app, s, 'model-gpt-4o', workspaceId);
    const m2 = await say(app, s, conv2.id, 'The launch is on Tuesday.');
    const bad = script(marker, {
      facts: () => ({ facts: [{ text: 'The launch is on Tuesday.', messageIds: [m2] }] }),
      actions: () => ({ actions: [{ event: 'DELETE', fact: 0, memory: 'm99' }] }),
    });
    await app.http.post(`/api/conversations/${conv2.id}/extract`).set(s.auth).expect(202);
    await app.deps.extractions.drain();
    expect(bad).toHaveLength(3);
    expect((await conversationOf(app, s, conv2.id)).extraction).toMatchObject({ status: 'fallback', error: expect.stringMatching(/m99 does not exist/) });
  });

  it('the queue is durable: a request left by a stopped server, and a claim whose process died, are run by the next one', async () => {
    const app = ctx();
    const conv = await newConversation(app, s, 'model-gpt-4o', workspaceId);
    const m1 = await say(app, s, conv.id, 'Durable fact.');
    const prompts = script(marker, { facts: () => ({ facts: [{ text: 'A durable fact.', messageIds: [m1] }] }) });
    await app.http.post(`/api/conversations/${conv.id}/extract`).set(s.auth).expect(202);
    // Claimed by a process that died an hour ago.
    await app.deps.prisma.conversationExtraction.update({ where: { conversationId: conv.id }, data: { status: 'running', claimedAt: new Date(Date.now() - 3_600_000), attempts: 1 } });
    const next = await createDeps(app.deps.config, { db: app.database.db, logger: app.deps.logger });
    try {
      await next.extractions.drain();
    } finally {
      await next.extractions.stop();
      await next.embeddings.stop();
      await next.documentParser.close();
      await next.rateLimitStore.close();
    }
    expect(prompts).toHaveLength(1);
    expect((await conversationOf(app, s, conv.id)).extraction).toMatchObject({ status: 'done', result: { added: 1 } });

    // Asked again while a run holds it: never claimable twice, queued again when that run ends.
    await app.http.post(`/api/conversations/${conv.id}/extract`).set(s.auth).expect(202);
    const claimed = (await claimExtraction(app.deps.prisma, 60_000))!;
    expect(claimed.conversationId).toBe(conv.id);
    expect((await app.http.post(`/api/conversations/${conv.id}/extract`).set(s.auth)).body.data.extraction.status).toBe('running');
    expect(await claimExtraction(app.deps.prisma, 60_000)).toBeNull();
    await finishExtraction(app.deps.prisma, claimed, { status: 'done', error: null, result: {} });
    expect((await conversationOf(app, s, conv.id)).extraction.status).toBe('pending');
    await app.deps.extractions.drain();
    expect((await conversationOf(app, s, conv.id)).extraction.status).toBe('done');
  });

  it('retention sweeps a deletion by consolidation once it is older than the period, like any other deletion', async () => {
    const app = ctx();
    const prisma = app.deps.prisma;
    const old = await addMemory(app, s, workspaceId, { title: 'Old', content: 'Deleted long ago.' });
    const recent = await addMemory(app, s, workspaceId, { title: 'Recent', content: 'Deleted just now.' });
    const provenance = { source: 'conversation' as const, conversationId: 'conv-000000000000', messageIds: [], model: 'gpt-4o' };
    for (const id of [old.id, recent.id]) {
      const row = await prisma.memory.findUniqueOrThrow({ where: { id } });
      await prisma.$transaction((tx) => softDeleteMemoryTx(tx, row, provenance));
    }
    await prisma.memoryVersion.updateMany({ where: { memoryId: old.id }, data: { createdAt: new Date(Date.now() - 10 * 86_400_000) } });
    await cleanupForUser(prisma, { id: s.user.id, retentionPeriod: '7-days' });
    expect((await app.http.get(`/api/memories/${old.id}/history`).set(s.auth)).status).toBe(404);
    expect((await history(app, s, recent.id)).deleted).toBe(true);
  });
}, env);
