/**
 * Workspaces: create (with the owner's membership), read with members and stats, update,
 * delete, and the dashboard. The list (W1) is served by workspace-list.ts.
 */
import type { Db } from '../data/sql.js';
import { insertMember } from '../data/team-members.js';
import type { WorkspaceStats } from '../data/workspace-stats.js';
import * as workspaces from '../data/workspaces.js';
import type { PrismaClient } from '../db/client.js';
import { notFound } from '../lib/errors.js';
import { logActivity, recentActivities } from './activity.js';
import { neuralLoad } from './neural-load.js';
import { workspaceStats } from './workspace-stats.js';

/** A workspace with its members and stats (W2, W3, W4). */
export interface WorkspaceDetail {
  workspace: workspaces.WorkspaceWithMembers;
  stats: WorkspaceStats;
}

/** What a new workspace is made of. */
export interface NewWorkspace {
  name: string;
  description?: string | null;
  /** The deployment's default (RETRIEVAL_TOP_K); the column's default (5) without it. */
  retrievalTopK?: number;
}

/**
 * Creates a workspace owned by `owner`, with the owner's admin membership and the
 * `team_member_added` activity, inside the caller's transaction.
 */
export async function createWorkspaceTx(tx: Db, owner: { id: string; name: string }, input: NewWorkspace) {
  const workspace = await workspaces.insertWorkspace(tx, {
    name: input.name, description: input.description ?? '', ownerId: owner.id, retrievalTopK: input.retrievalTopK,
  });
  const member = await insertMember(tx, { userId: owner.id, workspaceId: workspace.id, role: 'admin', status: 'online' });
  await logActivity(tx, workspace.id, 'team_member_added', `Team member ${owner.name} added as admin`, {
    teamMemberId: member.id,
    userId: owner.id,
    role: 'admin',
  });
  return workspace;
}

/** One workspace with members and stats (W3). */
export async function loadWorkspace(db: Db, workspaceId: string): Promise<WorkspaceDetail> {
  const [workspace, stats] = await Promise.all([workspaces.findWorkspace(db, workspaceId), workspaceStats(db, workspaceId)]);
  if (!workspace) throw notFound('Workspace not found'); // deleted since the policy loaded it
  return { workspace, stats };
}

/** W2 */
export async function createWorkspace(db: PrismaClient, owner: { id: string; name: string }, input: NewWorkspace) {
  const workspace = await db.$transaction((tx) => createWorkspaceTx(tx, owner, input));
  return loadWorkspace(db, workspace.id);
}

/** W4: only the keys present (settings' among them) change; updatedAt is bumped either way. */
export async function updateWorkspace(
  db: Db,
  workspaceId: string,
  input: { name?: string; description?: string | null; settings?: Partial<workspaces.WorkspaceSettings> },
) {
  const { settings, ...fields } = input;
  await workspaces.updateWorkspace(db, workspaceId, { ...fields, ...settings });
  return loadWorkspace(db, workspaceId);
}

/** W5: the workspace and everything in it. */
export async function deleteWorkspace(db: Db, workspaceId: string) {
  await workspaces.deleteWorkspace(db, workspaceId);
}

/** W7: stats, the 24-point neural load and the 10 newest activities, as of one instant. */
export async function workspaceDashboard(db: PrismaClient, workspaceId: string, now = new Date()) {
  const [stats, activities] = await Promise.all([workspaceStats(db, workspaceId, now), recentActivities(db, workspaceId, { limit: 10 })]);
  return { stats, neuralLoad: await neuralLoad(db, workspaceId, stats.systemLoad, now), activities };
}
