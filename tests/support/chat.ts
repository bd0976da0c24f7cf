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

export interface SseEvent {
  event: string;
  data: any;
}

export function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim())
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
      return { event, data: JSON.parse(data) };
    });
}

/** Serves the app on 127.0.0.1 for clients that need a real socket (streaming, disconnects). */
export async function listen(app: TestApp): Promise<{ url: string; close(): Promise<void> }> {
  const server = app.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls until `check` returns a truthy value (background work after a disconnect). */
export async function eventually<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
