/**
 * The order of checks on every route addressed by an id (§1.10): the subject is looked up
 * (404), then access is checked (403), and only then is the input validated (400). So an
 * outsider sending an invalid body learns nothing from a 400, and an unknown id with an
 * invalid body is a 404.
 */
import { beforeAll, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.js';
import { describeEachStorage } from '../support/app.js';
import { registerUser, type Session } from '../support/factories.js';

type Method = 'get' | 'post' | 'put' | 'delete';

interface Case {
  label: string;
  method: Method;
  /** The path for a subject id (the real one, or an unknown one). */
  path: (id: string) => string;
  realId: () => string;
  unknownId: string;
  /** 404 text for the unknown id. */
  notFound: string;
  /** An input the route refuses with 400 (body, or query for GETs). */
  invalid: Record<string, unknown>;
  /** Status and text an outsider gets (403 `Access denied`; integrations hide themselves behind a 404). */
  outsider: [number, string];
}

describeEachStorage('order of checks: 404, then 403, then 400', (ctx) => {
  let owner: Session;
  let stranger: Session;
  let ws: string;
  let memory: string;
  let conversation: string;
  let integration: string;

  beforeAll(async () => {
    const app = ctx();
    owner = await registerUser(app, { name: 'Owner' });
    stranger = await registerUser(app, { name: 'Stranger' });
    ws = (await app.http.post('/api/workspaces').set(owner.auth).send({ name: 'Order' })).body.data.id;
    memory = (await app.http.post(`/api/workspaces/${ws}/memories`).set(owner.auth).send({ title: 't', content: 'c' })).body.data.id;
    conversation = (await app.http.post(`/api/workspaces/${ws}/conversations`).set(owner.auth).send({ modelId: 'model-echo' })).body.data.id;
    integration = newId('int');
    await app.deps.prisma.integration.create({ data: { id: integration, userId: owner.user.id, provider: 'openai', apiKey: 'v1:a:b:c:d', status: 'connected' } });
  });

  const denied: [number, string] = [403, 'Access denied'];
  const cases: Case[] = [
    { label: 'W4 update workspace', method: 'put', path: (id) => `/api/workspaces/${id}`, realId: () => ws, unknownId: 'workspace-000000000000', notFound: 'Workspace not found', invalid: { name: null }, outsider: denied },
    { label: 'W8 activity (query)', method: 'get', path: (id) => `/api/workspaces/${id}/activity`, realId: () => ws, unknownId: 'workspace-000000000000', notFound: 'Workspace not found', invalid: { limit: 'many' }, outsider: denied },
    { label: 'T2 invite', method: 'post', path: (id) => `/api/workspaces/${id}/team/invite`, realId: () => ws, unknownId: 'workspace-000000000000', notFound: 'Workspace not found', invalid: { email: '' }, outsider: denied },
    { label: 'T3 change role', method: 'put', path: (id) => `/api/workspaces/${id}/team/${owner.user.id}/role`, realId: () => ws, unknownId: 'workspace-000000000000', notFound: 'Workspace not found', invalid: { role: 'king' }, outsider: denied },
    { label: 'M2 create memory', method: 'post', path: (id) => `/api/workspaces/${id}/memories`, realId: () => ws, unknownId: 'workspace-000000000000', notFound: 'Workspace not found', invalid: { title: '' }, outsider: denied },
    { label: 'M4 update memory', method: 'put', path: (id) => `/api/memories/${id}`, realId: () => memory, unknownId: 'memory-000000000000', notFound: 'Memory not found', invalid: { title: 7 }, outsider: denied },
    { label: 'C2 create conversation', method: 'post', path: (id) => `/api/workspaces/${id}/conversations`, realId: () => ws, unknownId: 'workspace-000000000000', notFound: 'Workspace not found', invalid: {}, outsider: denied },
    { label: 'C4 update conversation', method: 'put', path: (id) => `/api/conversations/${id}`, realId: () => conversation, unknownId: 'conv-000000000000', notFound: 'Conversation not found', invalid: { status: 'nope' }, outsider: denied },
    { label: 'C6 send message', method: 'post', path: (id) => `/api/conversations/${id}/messages`, realId: () => conversation, unknownId: 'conv-000000000000', notFound: 'Conversation not found', invalid: { content: '' }, outsider: denied },
    { label: 'G4 update integration', method: 'put', path: (id) => `/api/integrations/${id}`, realId: () => integration, unknownId: 'int-000000000000', notFound: 'Integration not found', invalid: { apiKey: 7 }, outsider: [404, 'Integration not found'] },
  ];

  const send = (c: Case, id: string, who: Session) => {
    const call = ctx().http[c.method](c.path(id)).set(who.auth);
    return c.method === 'get' ? call.query(c.invalid) : call.send(c.invalid);
  };

  for (const c of cases) {
    it(`${c.label}: an outsider's invalid input is refused as an outsider, an unknown id's as unknown`, async () => {
      const own = await send(c, c.realId(), owner);
      expect(own.status, 'the input is invalid for the owner').toBe(400);
      const outsider = await send(c, c.realId(), stranger);
      expect([outsider.status, outsider.body]).toEqual([c.outsider[0], { ok: false, data: null, error: c.outsider[1] }]);
      const unknown = await send(c, c.unknownId, owner);
      expect([unknown.status, unknown.body]).toEqual([404, { ok: false, data: null, error: c.notFound }]);
    });
  }

  it('the rule of a member below the needed role comes before validation too', async () => {
    const app = ctx();
    const observer = await registerUser(app, { name: 'Observer' });
    await app.deps.prisma.teamMember.create({ data: { id: newId('tm'), workspaceId: ws, userId: observer.user.id, role: 'observer' } });
    const r = await app.http.put(`/api/workspaces/${ws}`).set(observer.auth).send({ name: null });
    expect([r.status, r.body.error]).toEqual([403, 'Only owner or admin can update workspace']);
  });
});
