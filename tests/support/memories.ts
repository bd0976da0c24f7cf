/** Helpers for memory tests: a tiny model directory, a workspace per user, quick creates. */
import type { TestApp } from './app.js';
import type { Session } from './factories.js';
import { tempDir } from './temp-dirs.js';
import { writeTinyModel } from './tiny-model.js';

/** Env for a test app whose embedder loads a freshly generated tiny model. */
export function tinyModelEnv(): Record<string, string> {
  const modelDir = tempDir('chimera-model-');
  const name = writeTinyModel(modelDir);
  return { EMBEDDING_MODEL_DIR: modelDir, EMBEDDING_MODEL: name, EMBEDDING_POLL_INTERVAL: '200ms', SEARCH_MIN_SIMILARITY: '0' };
}

export async function defaultWorkspace(app: TestApp, session: Session): Promise<string> {
  const ws = await app.deps.prisma.workspace.findFirstOrThrow({ where: { ownerId: session.user.id } });
  return ws.id;
}

export async function addMemory(app: TestApp, session: Session, workspaceId: string, body: Record<string, unknown>) {
  const res = await app.http.post(`/api/workspaces/${workspaceId}/memories`).set(session.auth).send(body);
  if (res.status !== 201) throw new Error(`create memory failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data as { id: string; version: number; snippet: string; updatedAt: string; [k: string]: unknown };
}

/** Adds `userId` to the workspace with a role, directly (tests need no invitation round trip). */
export async function addMember(app: TestApp, workspaceId: string, userId: string, role: 'admin' | 'researcher' | 'observer') {
  await app.deps.prisma.teamMember.create({ data: { id: `tm-${Math.random().toString(16).slice(2, 14)}`, userId, workspaceId, role, status: 'online' } });
}
