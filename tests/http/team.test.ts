import { describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.js';
import { describeEachStorage, type TestApp } from '../support/app.js';
import { registerUser, type Session } from '../support/factories.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A workspace owned by a fresh user, with an admin, a researcher and an observer. */
async function team(app: TestApp) {
  const [owner, admin, researcher, observer, outsider] = await Promise.all([1, 2, 3, 4, 5].map(() => registerUser(app)));
  const ws = (await app.http.post('/api/workspaces').set(owner!.auth).send({ name: 'Team' })).body.data as { id: string };
  for (const [s, role] of [[admin, 'admin'], [researcher, 'researcher'], [observer, 'observer']] as const) {
    await app.deps.prisma.teamMember.create({ data: { id: newId('tm'), workspaceId: ws.id, userId: s!.user.id, role, status: 'online' } });
  }
  return { ws, owner: owner!, admin: admin!, researcher: researcher!, observer: observer!, outsider: outsider! };
}

const invite = (app: TestApp, s: Session, wsId: string, body: unknown) => app.http.post(`/api/workspaces/${wsId}/team/invite`).set(s.auth).send(body as object);

describeEachStorage('team and invitations', (ctx) => {
  it('T1 lists every member with the contract shape, in joining order, paged on request', async () => {
    const app = ctx();
    const t = await team(app);
    const res = await app.http.get(`/api/workspaces/${t.ws.id}/team`).set(t.observer.auth);
    expect(res.status).toBe(200);
    expect(res.body.data.total).toBe(4);
    expect(res.body.data.members.map((m: { userId: string }) => m.userId)).toEqual([t.owner.user.id, t.admin.user.id, t.researcher.user.id, t.observer.user.id]);
    expect(res.body.data.members[0]).toEqual({
      id: expect.stringMatching(/^tm-[0-9a-f]{12}$/), userId: t.owner.user.id, workspaceId: t.ws.id, role: 'admin', status: 'online',
      joinedAt: expect.stringMatching(ISO), user: { id: t.owner.user.id, name: t.owner.user.name, email: t.owner.user.email },
    });
    const page = await app.http.get(`/api/workspaces/${t.ws.id}/team?limit=2&offset=2`).set(t.owner.auth);
    expect(page.body.data).toMatchObject({ total: 4, members: [{ userId: t.researcher.user.id }, { userId: t.observer.user.id }] });
    for (const bad of ['abc', '-1', '1e9']) expect((await app.http.get(`/api/workspaces/${t.ws.id}/team?limit=${bad}`).set(t.owner.auth)).status).toBe(400);
  });

  it('T2 → I1 → I2: invite with a role, the invitee sees it, accepts, joins with that role; activity logged', async () => {
    const app = ctx();
    const t = await team(app);
    const sent = await invite(app, t.admin, t.ws.id, { email: t.outsider.user.email.toUpperCase(), role: 'observer' });
    expect(sent.status).toBe(201);
    expect(sent.body.data).toEqual({
      id: expect.stringMatching(/^inv-[0-9a-f]{12}$/), workspaceId: t.ws.id, workspaceName: 'Team', inviteeEmail: t.outsider.user.email,
      role: 'observer', status: 'pending', createdAt: expect.stringMatching(ISO), message: 'Invitation sent successfully',
    });
    const inbox = await app.http.get('/api/invitations').set(t.outsider.auth);
    expect(inbox.body.data).toEqual({
      total: 1,
      invitations: [{ id: sent.body.data.id, workspaceId: t.ws.id, workspaceName: 'Team', inviterName: t.admin.user.name, inviterEmail: t.admin.user.email, role: 'observer', status: 'pending', createdAt: sent.body.data.createdAt }],
    });
    const acc = await app.http.post(`/api/invitations/${sent.body.data.id}/accept`).set(t.outsider.auth);
    expect(acc.status).toBe(200);
    expect(acc.body.data).toEqual({ message: 'Invitation accepted', workspaceId: t.ws.id, workspaceName: 'Team' });
    // idempotent: a second accept answers the same and adds nothing
    const again = await app.http.post(`/api/invitations/${sent.body.data.id}/accept`).set(t.outsider.auth);
    expect(again.status).toBe(200);
    const members = await app.deps.prisma.teamMember.findMany({ where: { workspaceId: t.ws.id, userId: t.outsider.user.id } });
    expect(members).toMatchObject([{ role: 'observer', status: 'online' }]);
    const added = await app.deps.prisma.activity.findMany({ where: { workspaceId: t.ws.id, type: 'team_member_added', metadata: { path: ['userId'], equals: t.outsider.user.id } } });
    expect(added).toHaveLength(1);
    expect(added[0]!.description).toBe(`Team member ${t.outsider.user.name} added as observer`);
    expect((await app.http.get('/api/invitations').set(t.outsider.auth)).body.data.total).toBe(0);
    const list = await app.http.get('/api/workspaces').set(t.outsider.auth);
    expect(list.body.data.workspaces.map((w: { id: string }) => w.id)).toContain(t.ws.id);
    // the invitee is now a member: inviting again is refused
    const twice = await invite(app, t.owner, t.ws.id, { email: t.outsider.user.email });
    expect(twice.body).toEqual({ ok: false, data: null, error: 'User is already a member of this workspace' });
  });

  it('T2 refusals in the contract order and strings; role owner/superuser refused; no rows left behind', async () => {
    const app = ctx();
    const t = await team(app);
    const cases: [Session, unknown, number, string][] = [
      [t.researcher, { email: t.outsider.user.email }, 403, 'Only admins can invite members'],
      [t.owner, {}, 400, 'Email is required'],
      [t.owner, { email: null }, 400, 'Email is required'],
      [t.owner, { email: '   ' }, 400, 'Email is required'],
      [t.owner, { email: 42 }, 400, 'Enter a valid email address.'],
      [t.owner, { email: 'nobody-here@example.test' }, 404, 'User not found with this email'],
      [t.owner, { email: t.owner.user.email }, 400, 'Cannot invite yourself'],
      [t.admin, { email: t.owner.user.email }, 400, 'User is already a member of this workspace'],
      [t.owner, { email: t.researcher.user.email }, 400, 'User is already a member of this workspace'],
      [t.owner, { email: t.outsider.user.email, role: 'owner' }, 400, '"owner" is not a valid choice.'],
      [t.owner, { email: t.outsider.user.email, role: 'superuser' }, 400, '"superuser" is not a valid choice.'],
      [t.owner, { email: 'x'.repeat(10_000) }, 400, 'Ensure this field has no more than 254 characters.'],
    ];
    for (const [who, body, status, error] of cases) {
      const r = await invite(app, who, t.ws.id, body);
      expect([r.status, r.body.error], JSON.stringify(body).slice(0, 60)).toEqual([status, error]);
    }
    expect(await app.deps.prisma.workspaceInvitation.count({ where: { workspaceId: t.ws.id } })).toBe(0);
    expect((await invite(app, t.outsider, t.ws.id, { email: t.admin.user.email })).body.error).toBe('Access denied');
    expect((await invite(app, t.owner, 'workspace-ffffffffffff', { email: t.admin.user.email })).status).toBe(404);
  });

  it('concurrent invites create one invitation; concurrent accepts create one membership', async () => {
    const app = ctx();
    const t = await team(app);
    const invites = await Promise.all([1, 2, 3, 4].map(() => invite(app, t.owner, t.ws.id, { email: t.outsider.user.email })));
    expect(invites.map((r) => r.status).sort()).toEqual([201, 400, 400, 400]);
    for (const r of invites.filter((r) => r.status === 400)) expect(r.body.error).toBe('Invitation already sent to this user');
    const id = invites.find((r) => r.status === 201)!.body.data.id;
    const accepts = await Promise.all([1, 2, 3, 4].map(() => app.http.post(`/api/invitations/${id}/accept`).set(t.outsider.auth)));
    expect(accepts.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(await app.deps.prisma.teamMember.count({ where: { workspaceId: t.ws.id, userId: t.outsider.user.id } })).toBe(1);
    expect(await app.deps.prisma.activity.count({ where: { workspaceId: t.ws.id, type: 'team_member_added', metadata: { path: ['userId'], equals: t.outsider.user.id } } })).toBe(1);
  });

  it('I2/I3: only the invitee, only pending; decline deletes; a stale accepted invitation never 500s', async () => {
    const app = ctx();
    const t = await team(app);
    const sent = (await invite(app, t.owner, t.ws.id, { email: t.outsider.user.email })).body.data;
    for (const s of [t.owner, t.admin]) {
      for (const action of ['accept', 'decline']) {
        const r = await app.http.post(`/api/invitations/${sent.id}/${action}`).set(s.auth);
        expect([r.status, r.body.error]).toEqual([404, 'Invitation not found']);
      }
    }
    expect((await app.http.post('/api/invitations/inv-000000000000/accept').set(t.outsider.auth)).status).toBe(404);
    expect((await app.http.post('/api/invitations/%27%20OR%201=1--/decline').set(t.outsider.auth)).status).toBe(404);
    const dec = await app.http.post(`/api/invitations/${sent.id}/decline`).set(t.outsider.auth);
    expect(dec.body).toEqual({ ok: true, error: null, data: { message: 'Invitation declined' } });
    expect(await app.deps.prisma.workspaceInvitation.count({ where: { id: sent.id } })).toBe(0);
    expect((await app.http.post(`/api/invitations/${sent.id}/decline`).set(t.outsider.auth)).status).toBe(404);

    // a leftover accepted invitation whose membership is gone: re-inviting reopens it, accepting works
    const again = (await invite(app, t.owner, t.ws.id, { email: t.outsider.user.email })).body.data;
    await app.http.post(`/api/invitations/${again.id}/accept`).set(t.outsider.auth);
    await app.deps.prisma.teamMember.deleteMany({ where: { workspaceId: t.ws.id, userId: t.outsider.user.id } });
    const stale = await app.http.post(`/api/invitations/${again.id}/accept`).set(t.outsider.auth);
    expect([stale.status, stale.body.error]).toEqual([404, 'Invitation not found']);
    const reinvite = await invite(app, t.owner, t.ws.id, { email: t.outsider.user.email, role: 'admin' });
    expect(reinvite.status).toBe(201);
    expect(reinvite.body.data).toMatchObject({ id: again.id, status: 'pending', role: 'admin' });
    expect((await app.http.post(`/api/invitations/${again.id}/accept`).set(t.outsider.auth)).status).toBe(200);
    expect(await app.deps.prisma.teamMember.findFirst({ where: { workspaceId: t.ws.id, userId: t.outsider.user.id } })).toMatchObject({ role: 'admin' });
  });

  it('T3: admins change roles (never the owner, never to owner); field errors; non-UUID and unknown ids are 404', async () => {
    const app = ctx();
    const t = await team(app);
    const path = (userId: string) => `/api/workspaces/${t.ws.id}/team/${userId}/role`;
    const ok = await app.http.put(path(t.researcher.user.id)).set(t.admin.auth).send({ role: 'observer' });
    expect(ok.status).toBe(200);
    expect(ok.body.data).toMatchObject({ userId: t.researcher.user.id, role: 'observer', workspaceId: t.ws.id });
    const cases: [Session, string, unknown, number, unknown][] = [
      [t.researcher, t.observer.user.id, { role: 'admin' }, 403, 'Only admins can update roles'],
      [t.outsider, t.observer.user.id, { role: 'admin' }, 403, 'Access denied'],
      [t.admin, t.owner.user.id, { role: 'observer' }, 400, 'Cannot change owner role'],
      [t.owner, t.owner.user.id, { role: 'observer' }, 400, 'Cannot change owner role'],
      [t.admin, t.observer.user.id, { role: 'owner' }, 400, { role: ['"owner" is not a valid choice.'] }],
      [t.admin, t.observer.user.id, { role: 'superuser' }, 400, { role: ['"superuser" is not a valid choice.'] }],
      [t.admin, t.observer.user.id, { role: null }, 400, { role: ['This field may not be null.'] }],
      [t.admin, t.observer.user.id, {}, 400, { role: ['This field is required.'] }],
      [t.admin, 'not-a-uuid', { role: 'observer' }, 404, 'Team member not found'],
      [t.admin, '123', { role: 'observer' }, 404, 'Team member not found'],
      [t.admin, t.outsider.user.id, { role: 'observer' }, 404, 'Team member not found'],
      [t.admin, '00000000-0000-4000-8000-000000000000', { role: 'observer' }, 404, 'Team member not found'],
    ];
    for (const [who, target, body, status, error] of cases) {
      const r = await app.http.put(path(target)).set(who.auth).send(body as object);
      expect([r.status, r.body.error], `${target} ${JSON.stringify(body)}`).toEqual([status, error]);
    }
    expect((await app.deps.prisma.teamMember.findFirst({ where: { workspaceId: t.ws.id, userId: t.owner.user.id } }))!.role).toBe('admin');
  });

  it('T4: members set their own status only', async () => {
    const app = ctx();
    const t = await team(app);
    const path = (userId: string) => `/api/workspaces/${t.ws.id}/team/${userId}/status`;
    const ok = await app.http.put(path(t.observer.user.id)).set(t.observer.auth).send({ status: 'away' });
    expect(ok.status).toBe(200);
    expect(ok.body.data).toMatchObject({ userId: t.observer.user.id, status: 'away', role: 'observer' });
    const other = await app.http.put(path(t.researcher.user.id)).set(t.admin.auth).send({ status: 'away' });
    expect([other.status, other.body.error]).toEqual([403, 'Can only update your own status']);
    const bad = await app.http.put(path(t.observer.user.id)).set(t.observer.auth).send({ status: 'busy' });
    expect([bad.status, bad.body.error]).toEqual([400, { status: ['"busy" is not a valid choice.'] }]);
    expect((await app.http.put(path('nope')).set(t.observer.auth).send({ status: 'away' })).body.error).toBe('Team member not found');
    expect((await app.http.put(path(t.outsider.user.id)).set(t.outsider.auth).send({ status: 'away' })).body.error).toBe('Access denied');
  });

  it('T5: admins remove members (and their invitations), never the owner; members may leave; concurrent removes are safe', async () => {
    const app = ctx();
    const t = await team(app);
    const path = (userId: string) => `/api/workspaces/${t.ws.id}/team/${userId}`;
    const p = app.deps.prisma;
    // a leftover accepted invitation of the researcher is removed with the membership
    await p.workspaceInvitation.create({ data: { id: newId('inv'), workspaceId: t.ws.id, inviterId: t.owner.user.id, inviteeId: t.researcher.user.id, status: 'accepted' } });
    const refused = await app.http.delete(path(t.researcher.user.id)).set(t.observer.auth);
    expect([refused.status, refused.body.error]).toEqual([403, 'Only owner or admin can remove members']);
    const removes = await Promise.all([1, 2, 3].map(() => app.http.delete(path(t.researcher.user.id)).set(t.admin.auth)));
    expect(removes.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of removes.filter((r) => r.status !== 200)) expect([r.status, r.body.error]).toEqual([404, 'Team member not found']);
    expect(removes.find((r) => r.status === 200)!.body.data).toEqual({ message: 'Team member removed successfully' });
    expect(await p.workspaceInvitation.count({ where: { workspaceId: t.ws.id, inviteeId: t.researcher.user.id } })).toBe(0);
    const owner = await app.http.delete(path(t.owner.user.id)).set(t.admin.auth);
    expect([owner.status, owner.body.error]).toEqual([400, 'Cannot remove workspace owner']);
    expect((await app.http.delete(path(t.owner.user.id)).set(t.owner.auth)).body.error).toBe('Cannot remove workspace owner');
    expect((await app.http.delete(path('zzz')).set(t.admin.auth)).status).toBe(404);
    // an observer leaves on their own
    const leave = await app.http.delete(path(t.observer.user.id)).set(t.observer.auth);
    expect(leave.status).toBe(200);
    expect((await app.http.get(`/api/workspaces/${t.ws.id}`).set(t.observer.auth)).status).toBe(403);
    // the removed researcher can be invited again
    expect((await invite(app, t.owner, t.ws.id, { email: t.researcher.user.email })).status).toBe(201);
  });

  describe('invitations die with their sender\'s authority', () => {
    const REVOKED = 'Invitation revoked: its sender can no longer invite members to this workspace';
    const accept = (app: TestApp, s: Session, id: string) => app.http.post(`/api/invitations/${id}/accept`).set(s.auth);

    /** A team plus two outsiders, each invited by the team's admin. */
    async function invitedByAdmin(app: TestApp) {
      const t = await team(app);
      const [first, second] = await Promise.all([registerUser(app), registerUser(app)]);
      const ids: string[] = [];
      for (const who of [first, second]) ids.push((await invite(app, t.admin, t.ws.id, { email: who.user.email })).body.data.id);
      return { t, invitees: [first, second] as const, ids };
    }

    async function expectRevoked(app: TestApp, invitee: Session, id: string, wsId: string) {
      expect((await app.http.get('/api/invitations').set(invitee.auth)).body.data.total).toBe(0);
      const res = await accept(app, invitee, id);
      expect([res.status, res.body]).toEqual([410, { ok: false, data: null, error: REVOKED }]);
      expect(await app.deps.prisma.teamMember.count({ where: { workspaceId: wsId, userId: invitee.user.id } })).toBe(0);
      expect((await app.deps.prisma.workspaceInvitation.findUniqueOrThrow({ where: { id } })).status).toBe('revoked');
    }

    it('a sender demoted below admin: their pending invitations are revoked', async () => {
      const app = ctx();
      const { t, invitees, ids } = await invitedByAdmin(app);
      const ownInvite = await invite(app, t.owner, t.ws.id, { email: (await registerUser(app)).user.email });
      expect((await app.http.put(`/api/workspaces/${t.ws.id}/team/${t.admin.user.id}/role`).set(t.owner.auth).send({ role: 'researcher' })).status).toBe(200);
      for (const [i, id] of ids.entries()) await expectRevoked(app, invitees[i]!, id, t.ws.id);
      // the owner's invitation stands; a revoked one can be sent again by someone who may
      expect((await app.deps.prisma.workspaceInvitation.findUniqueOrThrow({ where: { id: ownInvite.body.data.id } })).status).toBe('pending');
      const resent = await invite(app, t.owner, t.ws.id, { email: invitees[0].user.email });
      expect(resent.body.data).toMatchObject({ id: ids[0], status: 'pending' });
      expect((await accept(app, invitees[0], ids[0]!)).status).toBe(200);
    });

    it('a sender removed, or leaving: their pending invitations are revoked', async () => {
      const app = ctx();
      const removed = await invitedByAdmin(app);
      expect((await app.http.delete(`/api/workspaces/${removed.t.ws.id}/team/${removed.t.admin.user.id}`).set(removed.t.owner.auth)).status).toBe(200);
      await expectRevoked(app, removed.invitees[0], removed.ids[0]!, removed.t.ws.id);
      const left = await invitedByAdmin(app);
      expect((await app.http.delete(`/api/workspaces/${left.t.ws.id}/team/${left.t.admin.user.id}`).set(left.t.admin.auth)).status).toBe(200);
      await expectRevoked(app, left.invitees[1], left.ids[1]!, left.t.ws.id);
    });

    it('accepting re-checks the sender: an invitation whose sender may no longer invite is refused and revoked', async () => {
      const app = ctx();
      const t = await team(app);
      // Sent by an admin who was then demoted by another path (here: straight in the database).
      const sent = await invite(app, t.admin, t.ws.id, { email: t.outsider.user.email });
      await app.deps.prisma.teamMember.updateMany({ where: { workspaceId: t.ws.id, userId: t.admin.user.id }, data: { role: 'observer' } });
      const res = await accept(app, t.outsider, sent.body.data.id);
      expect([res.status, res.body.error]).toEqual([410, REVOKED]);
      await expectRevoked(app, t.outsider, sent.body.data.id, t.ws.id);
      // a researcher's invitation (never allowed) does not let anyone in either
      const invitee = await registerUser(app);
      const forged = await app.deps.prisma.workspaceInvitation.create({
        data: { id: newId('inv'), workspaceId: t.ws.id, inviterId: t.researcher.user.id, inviteeId: invitee.user.id, role: 'admin' },
      });
      expect((await accept(app, invitee, forged.id)).status).toBe(410);
      await expectRevoked(app, invitee, forged.id, t.ws.id);
    });
  });
});
