/**
 * Two tenants for probing: `own` (the authorization-matrix fixture's workspace, where the
 * observer, researcher and admin actors hold their roles) and `other` (a stranger's account
 * with its own workspace, members, conversation, message, memory, integration and
 * invitation, its texts carrying a marker that must never appear in a response to anyone
 * else). Plus database snapshots: row counts and a hash per table, to prove "no side effect".
 */
import { randomBytes } from 'node:crypto';
import { newId } from '../../src/lib/ids.js';
import type { PrismaClient } from '../../src/db/client.js';
import { createMatrixFixture, extraUser } from '../authz/fixture.js';
import type { MatrixFixture } from '../authz/types.js';
import type { TestApp } from './app.js';
import { fakeKey } from './chat.js';
import { registerUser, type Session } from './factories.js';
import type { Placeholder } from './hostile.js';

export type TenantIds = Record<Placeholder, string>;

export interface OtherTenant {
  session: Session;
  ids: TenantIds;
  /** Text that only the other tenant's rows contain. */
  marker: string;
  /** Every id of the other tenant's rows (responses to others must name none of them). */
  allIds: string[];
}

/** An API key of the user, stored as the API stores one (only its hash). */
async function apiKeyOf(app: TestApp, userId: string): Promise<string> {
  const { id } = await app.deps.prisma.apiKey.create({
    data: { id: newId('key'), userId, name: 'Tenant key', prefix: 'chm_tenant', keyHash: randomBytes(32).toString('base64url'), scopes: ['memories:read'], workspaceIds: [] },
    select: { id: true },
  });
  return id;
}

async function connectIntegration(app: TestApp, session: Session, provider = 'openai'): Promise<string> {
  const found = await app.deps.prisma.integration.findFirst({ where: { userId: session.user.id, provider }, select: { id: true } });
  if (found) return found.id;
  const res = await app.http.post('/api/integrations').set(session.auth).send({ provider, apiKey: fakeKey('ok').apiKey });
  if (res.status !== 201) throw new Error(`integration failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.id as string;
}

/** Conversation, message, injected memory, a member to target and an invitation in workspace `workspaceId`. */
async function populate(app: TestApp, workspaceId: string, ownerId: string, inviteeId: string, text: string) {
  const prisma = app.deps.prisma;
  const [member, conversation, memory, invitation] = await Promise.all([
    extraUser({ app } as MatrixFixture, 'member').then(async (m) => {
      await prisma.teamMember.create({ data: { id: newId('tm'), workspaceId, userId: m.id, role: 'researcher' } });
      return m;
    }),
    prisma.conversation.create({ data: { id: newId('conv'), workspaceId, modelId: 'model-echo', title: `Conversation ${text}`, createdById: ownerId } }),
    prisma.memory.create({ data: { id: newId('memory'), workspaceId, title: `Memory ${text}`, content: `Memory content ${text}`, tags: [`tag-${text}`] } }),
    prisma.workspaceInvitation.create({ data: { id: newId('inv'), workspaceId, inviterId: ownerId, inviteeId }, select: { id: true } }),
  ]);
  const [message] = await Promise.all([
    prisma.chatMessage.create({ data: { id: newId('msg'), conversationId: conversation.id, role: 'user', content: `Message ${text}` } }),
    prisma.conversationMemory.create({ data: { conversationId: conversation.id, memoryId: memory.id } }),
  ]);
  return { conversationId: conversation.id, messageId: message.id, memoryId: memory.id, invitationId: invitation.id, userId: member.id };
}

export interface Tenants {
  fixture: MatrixFixture;
  other: OtherTenant;
  /** The own tenant's live ids; `refresh()` builds a new set (after a request changed them). */
  own(): TenantIds;
  refresh(): Promise<TenantIds>;
  /** A fresh account (for logout, account deletion and refresh-token routes). */
  throwaway(): Promise<Session>;
}

export async function createTenants(app: TestApp): Promise<Tenants> {
  const fixture = await createMatrixFixture(app);
  const marker = `TENANT-B-${randomBytes(6).toString('hex')}`;
  const session = await registerUser(app, { name: `Owner ${marker}` });
  const invitee = await extraUser(fixture, 'invitee');
  const ws = await app.deps.prisma.workspace.create({ data: { id: newId('workspace'), name: `Workspace ${marker}`, description: marker, ownerId: session.user.id, members: { create: [{ id: newId('tm'), userId: session.user.id, role: 'admin' }] } }, select: { id: true } });
  const rest = await populate(app, ws.id, session.user.id, invitee.id, marker);
  const ids: TenantIds = {
    workspaceId: ws.id, ...rest, integrationId: await connectIntegration(app, session), apiKeyId: await apiKeyOf(app, session.user.id), version: '1', refresh: session.refresh,
  };
  // A version number is no id: it is the same small number in every tenant.
  const allIds = [...Object.entries(ids).filter(([name]) => name !== 'version').map(([, id]) => id), session.user.id, invitee.id];
  const other: OtherTenant = { session, ids, marker, allIds };

  let current: TenantIds | undefined;
  const refresh = async () => {
    const [populated, integrationId, apiKeyId, session] = await Promise.all([
      fixture.freshWorkspace().then(async ({ id }) => ({ workspaceId: id, ...(await populate(app, id, fixture.sessions.owner.user.id, fixture.sessions.stranger.user.id, 'own')) })),
      connectIntegration(app, fixture.sessions.owner),
      apiKeyOf(app, fixture.sessions.owner.user.id),
      registerUser(app),
    ]);
    current = { ...populated, integrationId, apiKeyId, version: '1', refresh: session.refresh };
    return current;
  };
  await refresh();
  return {
    fixture,
    other,
    own: () => current!,
    refresh,
    throwaway: () => registerUser(app),
  };
}

/** Replaces `{{name}}` (own tenant) and `{{other:name}}` (other tenant) placeholders. */
export function fill(text: string, own: TenantIds, other: TenantIds): string {
  return text.replace(/\{\{(other:)?(\w+)\}\}/g, (m, o: string | undefined, name: string) => {
    const ids = o ? other : own;
    return name in ids ? ids[name as Placeholder] : m;
  });
}

export type Snapshot = Map<string, string>;

let tableList: Promise<string[]> | undefined;
async function tables(prisma: PrismaClient): Promise<string[]> {
  tableList ??= prisma
    .$queryRawUnsafe<{ t: string }[]>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema() AND tablename <> '_prisma_migrations' ORDER BY 1`)
    .then((rows) => rows.map((r) => r.t));
  return tableList;
}

/**
 * Row count and a hash per table. By default the hash covers every row version (xmin and
 * ctid): any INSERT, UPDATE (even one writing the same values) or DELETE changes it, without
 * reading large column values. With `rowsMatching`, only rows whose text mentions one of
 * those ids count, and the hash covers their full contents.
 */
export async function snapshot(prisma: PrismaClient, rowsMatching?: string[]): Promise<Snapshot> {
  const names = await tables(prisma);
  const filter = rowsMatching?.length ? `WHERE x::text ~ '${rowsMatching.map((id) => id.replace(/[^\w-]/g, '')).join('|')}'` : '';
  // An order-independent sum of 64-bit row hashes: no sort, one pass per table.
  const hashed = rowsMatching ? `x::text` : `x.xmin::text || ':' || x.ctid::text`;
  const sql = names
    .map((t) => `SELECT '${t}' AS t, count(*)::int AS n, coalesce(sum(hashtextextended(${hashed}, 0)), 0)::text AS h FROM "${t}" x ${filter}`)
    .join(' UNION ALL ');
  const rows = await prisma.$queryRawUnsafe<{ t: string; n: number; h: string }[]>(sql);
  return new Map(rows.map((r) => [r.t, `${r.n}:${r.h}`]));
}

/** Tables whose snapshot differs. */
export function changedTables(before: Snapshot, after: Snapshot): string[] {
  return [...before.keys()].filter((t) => before.get(t) !== after.get(t));
}
