/**
 * A user route cannot exist without a policy: the type checker refuses it (the
 * `@ts-expect-error` lines below fail `tsc` the day they compile), and mounting one fails at
 * start-up. The same holds for a policy whose resource is loaded by params the path lacks.
 */
import express from 'express';
import { describe, expect, it } from 'vitest';
import type { AppDeps } from '../../src/app-deps.js';
import { defineRoute, mountRoutes, type RouteSpec } from '../../src/http/route.js';
import { account, conversation, teamMember, workspace } from '../../src/policies/index.js';

const mount = (spec: RouteSpec) => () => mountRoutes(express.Router(), {} as AppDeps, [spec]);
const handler = () => ({});

describe('route policies', () => {
  it('a user route without a policy does not compile and does not mount', () => {
    // @ts-expect-error: a user route must declare its policy
    const spec = defineRoute({ method: 'get', path: '/things', operationId: 'x', summary: 'x', tag: 'x', access: 'user', handler });
    expect(mount(spec)).toThrow(/must declare its policy/);
  });

  it('a resource loaded by params the path lacks does not compile and does not mount', () => {
    // @ts-expect-error: the workspace is loaded by :workspaceId
    const spec = defineRoute({ method: 'get', path: '/things/:thingId', operationId: 'x', summary: 'x', tag: 'x', access: 'user', policy: workspace.can('read'), handler });
    expect(mount(spec)).toThrow(/loaded by workspaceId, which the path lacks/);
    // @ts-expect-error: a team member needs :userId as well
    const partial = defineRoute({ method: 'get', path: '/workspaces/:workspaceId/x', operationId: 'x', summary: 'x', tag: 'x', access: 'user', policy: teamMember.can('remove'), handler });
    expect(mount(partial)).toThrow(/loaded by userId/);
  });

  it('an action the resource does not have does not compile and does not mount', () => {
    // @ts-expect-error: conversations have no "publish" action
    const spec = defineRoute({ method: 'get', path: '/conversations/:conversationId', operationId: 'x', summary: 'x', tag: 'x', access: 'user', policy: conversation.can('publish'), handler });
    expect(mount(spec)).toThrow(/conversation has no action "publish"/);
  });

  it('a public route declares no policy', () => {
    // @ts-expect-error: public routes have no policy
    const spec = defineRoute({ method: 'get', path: '/open', operationId: 'x', summary: 'x', tag: 'x', access: 'public', policy: account.can('read'), handler });
    expect(mount(spec)).toThrow(/public route has no policy/);
  });

  it('a declared route mounts, and its handler sees the params and subject typed', () => {
    const spec = defineRoute({
      method: 'get', path: '/workspaces/:workspaceId/team/:userId', operationId: 'x', summary: 'x', tag: 'x', access: 'user', policy: teamMember.can('remove'),
      handler: ({ params, subject }) => {
        const ids: [string, string, string] = [params.workspaceId, params.userId, subject.workspace.ownerId];
        // @ts-expect-error: the path has no :memoryId
        return [ids, params.memoryId];
      },
    });
    expect(mount(spec)).not.toThrow();
  });
});
