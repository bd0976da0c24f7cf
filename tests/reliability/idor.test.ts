/**
 * IDOR probes: every id-addressed route (path ids, and ids carried in bodies and queries)
 * called by every signed-in actor of one tenant with ids belonging to another tenant —
 * workspace, conversation, message, memory, integration, invitation, team member — alone
 * and mixed with the caller's own ids (own conversation + the other tenant's message or
 * memory, own workspace + the other tenant's member, …). For each: a refusal (4xx), no
 * text or id of the other tenant in the response, the other tenant's rows unchanged (full
 * contents hashed), and on the refusal nothing written anywhere.
 *
 * Valid bodies come from the authorization matrix rows, so each request gets past
 * validation and really reaches the ownership check. RELIABILITY_SHORT=1: PostgreSQL only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteSpec } from '../../src/http/route.js';
import { type Actor, type MatrixRow, type PreparedRequest } from '../authz/types.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { storages } from '../support/db.js';
import { type FakeProviders, startFakeProviders } from '../support/fake-providers.js';
import { PARAM_PLACEHOLDER, type Placeholder } from '../support/hostile.js';
import { changedTables, createTenants, type Snapshot, snapshot, type TenantIds, type Tenants } from '../support/tenants.js';
import { contractKey } from '../support/routes.js';

const SHORT = process.env.RELIABILITY_SHORT === '1';
const STORAGES = SHORT ? storages().filter((s) => s === 'postgres') : storages();
/** Short run: the outsider and the own tenant's owner (who holds every right there); full run: every signed-in actor. */
const ATTACKERS: Exclude<Actor, 'anonymous'>[] = SHORT ? ['stranger', 'owner'] : ['stranger', 'observer', 'researcher', 'admin', 'owner'];

const modules = import.meta.glob<{ rows: MatrixRow[] }>('../authz/rows/*.ts', { eager: true });
const matrixRows = new Map(Object.values(modules).flatMap((m) => m.rows.map((r) => [r.operationId, r] as const)));

/** Body and query keys that carry ids, by placeholder. */
const ID_KEYS: Record<string, Placeholder> = { workspace_id: 'workspaceId', workspaceId: 'workspaceId', conversation_id: 'conversationId', memoryId: 'memoryId' };

/** Where an id can be the other tenant's: which path params and which body/query keys. */
interface Probe {
  label: string;
  /** param name → whose id */
  params: Record<string, 'own' | 'other'>;
  /** body/query id keys set to the other tenant's id */
  otherKeys: string[];
}

/** Id keys a route accepts that its matrix row does not send: probed too. */
const EXTRA_KEYS: Record<string, string[]> = {
  M7: ['workspaceId', 'workspace_id'],
  ...Object.fromEntries(['L3', 'L4', 'L5', 'L6', 'L7', 'L8', 'L9'].map((op) => [op, ['conversation_id']])),
};

function probesFor(spec: RouteSpec, req: PreparedRequest): Probe[] {
  const params = [...spec.path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
  const keys = [...Object.keys((req.body as object) ?? {}), ...Object.keys(req.query ?? {}), ...(EXTRA_KEYS[contractKey(spec)] ?? [])].filter((k) => k in ID_KEYS);
  const out: Probe[] = [];
  if (params.length) out.push({ label: 'all path ids of the other tenant', params: Object.fromEntries(params.map((p) => [p, 'other'])), otherKeys: [] });
  // parent own, child other (own conversation + other's message; own workspace + other's member) and the reverse
  if (params.length === 2) {
    out.push({ label: `own ${params[0]}, other ${params[1]}`, params: { [params[0]!]: 'own', [params[1]!]: 'other' }, otherKeys: [] });
    out.push({ label: `other ${params[0]}, own ${params[1]}`, params: { [params[0]!]: 'other', [params[1]!]: 'own' }, otherKeys: [] });
  }
  for (const k of keys) out.push({ label: `${k} of the other tenant`, params: Object.fromEntries(params.map((p) => [p, 'own'])), otherKeys: [k] });
  return out;
}

/** MCP tools addressed by id. */
const MCP_CALLS: { tool: string; args: (other: TenantIds) => Record<string, unknown> }[] = [
  { tool: 'get_memory', args: (o) => ({ memory_id: o.memoryId }) },
  { tool: 'search_memories', args: (o) => ({ query: 'Memory content', workspace_id: o.workspaceId }) },
  { tool: 'search_memories', args: (o) => ({ query: 'Memory content', conversation_id: o.conversationId }) },
  { tool: 'list_memories', args: (o) => ({ workspace_id: o.workspaceId }) },
  { tool: 'list_memories', args: (o) => ({ conversation_id: o.conversationId }) },
  { tool: 'remember', args: (o) => ({ text: 'planted by another tenant', workspace_id: o.workspaceId }) },
  { tool: 'inject_memories', args: (o) => ({ conversation_id: o.conversationId }) },
];

for (const storage of STORAGES) {
  describe(`IDOR probes [${storage}]`, () => {
    let app: TestApp;
    let fake: FakeProviders;
    let tenants: Tenants;
    let requests = 0;
    let dirty = false;
    let otherSnapshot: Snapshot | undefined;

    beforeAll(async () => {
      fake = await startFakeProviders();
      app = await startTestApp(storage, { ...fake.env, LOG_LEVEL: 'warn' });
      tenants = await createTenants(app);
    });

    afterAll(async () => {
      console.log(`IDOR probes [${storage}]: ${requests} requests with another tenant's ids`);
      await app?.close();
      await fake?.close();
    });

    /** Sends one request; returns what is wrong with the answer. */
    async function attempt(label: string, send: () => Promise<{ status: number; text: string }>, allow2xx = false): Promise<string[]> {
      const other = tenants.other;
      const before = await snapshot(app.deps.prisma);
      // the other tenant's rows change only through a successful attack, so its last snapshot stands
      const otherBefore = (otherSnapshot ??= await snapshot(app.deps.prisma, other.allIds));
      const res = await send();
      if (res.status < 400) dirty = true;
      await Promise.allSettled([...app.deps.background]);
      const after = await snapshot(app.deps.prisma);
      const otherAfter = await snapshot(app.deps.prisma, other.allIds);
      otherSnapshot = otherAfter;
      requests++;
      const problems: string[] = [];
      const where = `${label} → ${res.status}`;
      if (res.status < 400 && !allow2xx) problems.push(`${where}: not refused ${res.text.slice(0, 300)}`);
      if (res.status >= 500) problems.push(`${where}: server error`);
      const text = res.text ?? '';
      if (text.includes(other.marker)) problems.push(`${where}: response carries the other tenant's text ${text.slice(0, 300)}`);
      for (const id of other.allIds) if (text.includes(id)) problems.push(`${where}: response names the other tenant's ${id}`);
      const theirs = changedTables(otherBefore, otherAfter);
      if (theirs.length) problems.push(`${where}: the other tenant's rows changed in ${theirs.join(', ')}`);
      if (res.status >= 400) {
        const changed = changedTables(before, after);
        if (changed.length) problems.push(`${where}: a refusal wrote to ${changed.join(', ')}`);
      }
      return problems;
    }

    it('every id-addressed route refuses another tenant\'s ids, shows none of its data and changes none of its rows', async () => {
      const specs = app.app.routeSpecs;
      const problems: string[] = [];
      const probed = new Set<string>();
      for (const spec of specs) {
        const row = matrixRows.get(contractKey(spec));
        if (!row || contractKey(spec) === 'mcp') continue;
        for (const actor of ATTACKERS) {
          // a fresh own tenant after anything succeeded (a refusal leaves it as it was)
          const own = dirty ? await tenants.refresh() : tenants.own();
          dirty = false;
          const req = await row.prepare(tenants.fixture, actor);
          for (const probe of probesFor(spec, req)) {
            probed.add(contractKey(spec));
            const pick = (param: string) => {
              const ph = PARAM_PLACEHOLDER[param];
              if (!ph) throw new Error(`no id kind for :${param}`);
              return (probe.params[param] === 'other' ? tenants.other.ids : own)[ph];
            };
            const path = spec.path.replace(/:(\w+)/g, (_m, p: string) => pick(p));
            const swap = (obj: Record<string, unknown> | undefined) => {
              if (!obj) return obj;
              const out = Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, k in ID_KEYS ? own[ID_KEYS[k]!] : v]));
              for (const k of probe.otherKeys) out[k] = tenants.other.ids[ID_KEYS[k]!];
              return out;
            };
            const inQuery = spec.method === 'get';
            const body = inQuery ? req.body : swap((req.body as Record<string, unknown> | undefined) ?? {});
            const query = inQuery ? (swap(req.query ?? {}) as Record<string, string>) : req.query;
            // M7 (search across what the caller may read) answers 200 with the caller's own hits when the other workspace is named: no refusal, no data.
            const allow2xx = contractKey(spec) === 'M7';
            const label = `${actor} ${contractKey(spec)} ${spec.method.toUpperCase()} ${path} [${probe.label}]`;
            problems.push(
              ...(await attempt(
                label,
                async () => {
                  let call = app.http[spec.method](`${spec.root ? '' : '/api'}${path}`).set(tenants.fixture.sessions[actor].auth);
                  if (query) call = call.query(query);
                  if (req.attach) call = call.attach(req.attach[0], req.attach[1], req.attach[2]);
                  else if (body !== undefined) call = call.send(body as object);
                  return call;
                },
                allow2xx,
              )),
            );
          }
        }
      }
      // MCP tools with the other tenant's ids: JSON-RPC answers (tool errors), never their data.
      for (const actor of ATTACKERS) {
        for (const { tool, args } of MCP_CALLS) {
          probed.add('mcp');
          problems.push(
            ...(await attempt(
              `${actor} mcp tools/call ${tool}`,
              async () => {
                const res = await app.http
                  .post('/mcp')
                  .set(tenants.fixture.sessions[actor].auth)
                  .set('Accept', 'application/json, text/event-stream')
                  .send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: args(tenants.other.ids) } });
                // a tool refusal is a JSON-RPC result with isError (HTTP 200): count it as the refusal it is
                const refused = /"isError":true/.test(res.text) || /"error":\{/.test(res.text);
                return { status: refused ? 403 : res.status, text: res.text };
              },
            )),
          );
        }
      }
      console.log(`IDOR probes [${storage}]: ${probed.size} operations probed: ${[...probed].join(' ')}`);
      expect(problems).toEqual([]);
      // every route with a path id was probed
      const withIds = specs.filter((s) => s.path.includes(':')).map(contractKey);
      expect(withIds.filter((id) => !probed.has(id))).toEqual([]);
    });
  });
}
