/** Helpers for conversation and chat tests: keys for the fake providers, conversations, memories. */
import { randomBytes } from 'node:crypto';
import { newId } from '../../src/lib/ids.js';
import type { TestApp } from './app.js';
import type { FakeProvider } from './fake-providers.js';
import type { Session } from './factories.js';

/** A key the fake providers read as `behaviour`, with a unique marker to find its requests. */
export function fakeKey(behaviour = 'ok'): { apiKey: string; marker: string } {
  const marker = randomBytes(6).toString('hex');
  return { apiKey: `sk-${behaviour}-${marker}`, marker };
}

export async function defaultWorkspaceId(app: TestApp, session: Session): Promise<string> {
  const ws = await app.deps.prisma.workspace.findFirstOrThrow({ where: { ownerId: session.user.id }, orderBy: { createdAt: 'asc' } });
  return ws.id;
}

export async function connect(app: TestApp, session: Session, provider: FakeProvider, behaviour = 'ok', extra: Record<string, unknown> = {}) {
  const key = fakeKey(behaviour);
  const res = await app.http.post('/api/integrations').set(session.auth).send({ provider, apiKey: key.apiKey, ...extra });
  if (res.status !== 201) throw new Error(`integration failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...key, integration: res.body.data };
}

export async function newConversation(app: TestApp, session: Session, modelId: string, workspaceId?: string) {
  const ws = workspaceId ?? (await defaultWorkspaceId(app, session));
  const res = await app.http.post(`/api/workspaces/${ws}/conversations`).set(session.auth).send({ modelId, title: 'Chat test' });
  if (res.status !== 201) throw new Error(`conversation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data as { id: string; workspaceId: string };
}

export async function createMemory(app: TestApp, workspaceId: string, input: { title: string; content: string }) {
  return app.deps.prisma.memory.create({
    data: { id: newId('memory'), workspaceId, title: input.title, content: input.content, snippet: input.content.slice(0, 150) },
  });
}

/** Adds `user` to the owner's workspace with `role`. */
export async function addMember(app: TestApp, workspaceId: string, user: Session, role: 'admin' | 'researcher' | 'observer') {
  await app.deps.prisma.teamMember.create({ data: { id: newId('tm'), workspaceId, userId: user.user.id, role, status: 'online' } });
}
