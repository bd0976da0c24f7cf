import type { AppDeps } from '../app-deps.js';
import { sendSuccessJson } from '../http/envelope.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { account, workspace, workspaceLimitOf } from '../policies/index.js';
import { presentActivity } from '../presenters/activity.js';
import { presentDashboard, presentStats, presentWorkspace } from '../presenters/workspace.js';
import { activityQuery, createWorkspaceBody, updateWorkspaceBody, workspaceListQuery } from '../schemas/workspaces.js';
import { recentActivities } from '../services/activity.js';
import { neuralLoad, recordLoad } from '../services/neural-load.js';
import { listStamps, WorkspaceListCache } from '../services/workspace-list.js';
import { workspaceStats } from '../services/workspace-stats.js';
import * as workspaces from '../services/workspaces.js';
import { MessageResult } from '../schemas/responses/common.js';
import { ActivityList, Dashboard, LoadRecorded, NeuralLoad, Workspace, WorkspaceList, WorkspaceStats } from '../schemas/responses/workspaces.js';

const present = ({ workspace, stats }: workspaces.WorkspaceDetail) => presentWorkspace(workspace, stats);

const ACCESS_ERRORS = { 403: 'Access denied', 404: 'Workspace not found' };

export function workspaceRoutes(deps: AppDeps): RouteSpec[] {
  const { prisma } = deps;
  const list = new WorkspaceListCache(deps.db, present);
  return [
    defineRoute({
      method: 'get', path: '/workspaces', operationId: 'listWorkspaces', contractId: 'W1', tag: 'workspaces', access: 'user', policy: account.can('list-workspaces'), response: WorkspaceList,
      summary: 'Workspaces the caller owns or belongs to, newest update first, each with members and stats',
      query: workspaceListQuery,
      // Sent from the cached entries' serialized text (the same bytes as the envelope of the value).
      raw: true,
      preload: listStamps,
      handler: async ({ user, query, res, preloaded }) => {
        const result = await list.list(user.id, query, preloaded, workspaceLimitOf(user));
        sendSuccessJson(res, 200, result.json, result.etag);
      },
    }),
    defineRoute({
      method: 'post', path: '/workspaces', operationId: 'createWorkspace', contractId: 'W2', tag: 'workspaces', access: 'user', policy: account.can('create-workspace'), status: 201, response: Workspace,
      summary: 'Create a workspace owned by the caller (who becomes its first member)',
      body: createWorkspaceBody, bodyErrors: 'fields',
      responses: { 400: 'Field errors' },
      handler: async ({ user, body }) => present(await workspaces.createWorkspace(prisma, user, { ...body, retrievalTopK: deps.config.llm.retrievalTopK })),
    }),
    defineRoute({
      method: 'get', path: '/workspaces/:workspaceId', operationId: 'getWorkspace', contractId: 'W3', tag: 'workspaces', access: 'user', policy: workspace.can('read'), response: Workspace,
      summary: 'One workspace with members and stats',
      responses: ACCESS_ERRORS,
      handler: async ({ subject }) => present(await workspaces.loadWorkspace(prisma, subject.id)),
    }),
    defineRoute({
      method: 'put', path: '/workspaces/:workspaceId', operationId: 'updateWorkspace', contractId: 'W4', tag: 'workspaces', access: 'user', policy: workspace.can('update'), response: Workspace,
      summary: 'Rename or re-describe a workspace, or change its settings (owner or admin)',
      body: updateWorkspaceBody, bodyErrors: 'prefixed',
      responses: { ...ACCESS_ERRORS, 400: 'Invalid field, e.g. "name: This field may not be null." or "settings.retrievalTopK: Ensure this value is less than or equal to 20."' },
      handler: async ({ subject, body }) => present(await workspaces.updateWorkspace(prisma, subject.id, body)),
    }),
    defineRoute({
      method: 'delete', path: '/workspaces/:workspaceId', operationId: 'deleteWorkspace', contractId: 'W5', tag: 'workspaces', access: 'user', policy: workspace.can('delete'), response: MessageResult,
      summary: 'Delete a workspace and everything in it (owner only)',
      responses: ACCESS_ERRORS,
      handler: async ({ subject }) => {
        await workspaces.deleteWorkspace(prisma, subject.id);
        return { message: 'Workspace deleted successfully' };
      },
    }),
    defineRoute({
      method: 'get', path: '/workspaces/:workspaceId/stats', operationId: 'getWorkspaceStats', contractId: 'W6', tag: 'workspaces', access: 'user', policy: workspace.can('read'), response: WorkspaceStats,
      summary: 'Workspace stats (the one formula, D2)',
      responses: ACCESS_ERRORS,
      handler: async ({ subject }) => presentStats(await workspaceStats(prisma, subject.id)),
    }),
    defineRoute({
      method: 'get', path: '/workspaces/:workspaceId/dashboard', operationId: 'getWorkspaceDashboard', contractId: 'W7', tag: 'workspaces', access: 'user', policy: workspace.can('read'), response: Dashboard,
      summary: 'Stats, the 24-point neural load and the 10 newest activities',
      responses: ACCESS_ERRORS,
      handler: async ({ subject }) => presentDashboard(await workspaces.workspaceDashboard(prisma, subject.id)),
    }),
    defineRoute({
      method: 'get', path: '/workspaces/:workspaceId/activity', operationId: 'listWorkspaceActivity', contractId: 'W8', tag: 'workspaces', access: 'user', policy: workspace.can('read'), response: ActivityList,
      summary: 'Newest activities (limit default 10, capped at 100)',
      query: activityQuery,
      responses: { ...ACCESS_ERRORS, 400: 'limit: A valid integer is required.' },
      handler: async ({ subject, query }) => {
        const activities = (await recentActivities(prisma, subject.id, query)).map(presentActivity);
        return { activities, total: activities.length };
      },
    }),
    defineRoute({
      method: 'get', path: '/workspaces/:workspaceId/neural-load', operationId: 'getNeuralLoad', contractId: 'W9', tag: 'workspaces', access: 'user', policy: workspace.can('read'), response: NeuralLoad,
      summary: 'The 24-point neural load and the current load',
      responses: ACCESS_ERRORS,
      handler: async ({ subject: workspace }) => {
        const now = new Date();
        const { systemLoad } = await workspaceStats(prisma, workspace.id, now);
        return { neuralLoad: await neuralLoad(prisma, workspace.id, systemLoad, now), currentLoad: systemLoad };
      },
    }),
    defineRoute({
      method: 'post', path: '/workspaces/:workspaceId/record-load', operationId: 'recordLoad', contractId: 'W10', tag: 'workspaces', access: 'user', policy: workspace.can('record-load'), response: LoadRecorded,
      summary: 'Store the current load for this 5-minute bucket (idempotent) and prune snapshots older than 24 h',
      responses: ACCESS_ERRORS,
      handler: async ({ subject }) => {
        return { currentLoad: await recordLoad(prisma, subject.id), message: 'Load snapshot recorded' };
      },
    }),
  ];
}
