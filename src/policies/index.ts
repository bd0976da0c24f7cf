/**
 * The one place that decides who may do what (D6). Roles nest:
 * owner ⊇ admin ⊇ researcher ⊇ observer. Routes load the subject (404 when missing),
 * then call `authorize` (403 when refused), then the service.
 */
import type { PrismaClient } from '../db/client.js';
import { forbidden, notFound } from '../http/errors.js';

export type Role = 'owner' | 'admin' | 'researcher' | 'observer';

const RANK: Record<Role, number> = { observer: 0, researcher: 1, admin: 2, owner: 3 };

/** Every workspace-scoped action and the least role that may perform it. */
export const ACTIONS = {
  'workspace:read': 'observer',
  'workspace:update': 'admin',
  'workspace:delete': 'owner',
  'workspace:record-load': 'observer',
  'team:read': 'observer',
  'team:invite': 'admin',
  'team:change-role': 'admin',
  'team:remove': 'admin',
  'team:update-own-status': 'observer',
  'team:leave': 'observer',
  'conversation:read': 'observer',
  'conversation:write': 'researcher',
  'message:write': 'researcher',
  'memory:read': 'observer',
  'memory:write': 'researcher',
  'memory:import': 'researcher',
} as const satisfies Record<string, Role>;

export type Action = keyof typeof ACTIONS;

export function can(role: Role | null, action: Action): boolean {
  return role !== null && RANK[role] >= RANK[ACTIONS[action]];
}

/**
 * An invitation carries its sender's authority: it stands only while the sender may still
 * invite to its workspace. Removal, leaving or a demotion below the inviting role revokes it.
 */
export const invitationStands = (inviterRole: Role | null): boolean => can(inviterRole, 'team:invite');

export interface WorkspaceAccess {
  workspace: { id: string; name: string; ownerId: string };
  /** The caller's role; null when the caller is not a member. */
  role: Role | null;
}

/** The caller's role from a workspace row loaded with `memberSelect(userId)`: owner, the member row's role, or null. */
export function roleOf(workspace: { ownerId: string; members: { role: string }[] }, userId: string): Role | null {
  return workspace.ownerId === userId ? 'owner' : ((workspace.members[0]?.role as Role | undefined) ?? null);
}

/** What `roleOf` needs, for callers that load the workspace as part of a larger query. */
export const memberSelect = (userId: string) => ({ id: true, name: true, ownerId: true, members: { where: { userId }, select: { role: true } } }) as const;

/** The caller's role in a workspace: owner, the member row's role, or null. */
export async function workspaceAccess(prisma: PrismaClient, userId: string, workspaceId: string, notFoundMessage = 'Workspace not found'): Promise<WorkspaceAccess> {
  const workspace = await prisma.workspace.findUnique({
    where: { id: workspaceId },
    select: memberSelect(userId),
  });
  if (!workspace) throw notFound(notFoundMessage);
  const role = roleOf(workspace, userId);
  return { workspace: { id: workspace.id, name: workspace.name, ownerId: workspace.ownerId }, role };
}

/**
 * Throws 403 unless the role allows the action. Non-members always get `Access denied`;
 * members lacking the role get `message` (e.g. "Only owner can delete workspace").
 */
export function authorize(access: Pick<WorkspaceAccess, 'role'>, action: Action, message = 'Access denied'): void {
  if (access.role === null) throw forbidden('Access denied');
  if (!can(access.role, action)) throw forbidden(message);
}

/** Ids of every workspace the user owns or belongs to (for cross-workspace reads such as search). */
export async function readableWorkspaceIds(prisma: PrismaClient, userId: string): Promise<string[]> {
  const rows = await prisma.workspace.findMany({
    where: { OR: [{ ownerId: userId }, { members: { some: { userId } } }] },
    select: { id: true },
  });
  return rows.map((r) => r.id);
}
