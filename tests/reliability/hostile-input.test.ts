/**
 * Hostile input on every route, as every actor. Each operation's request body and query
 * parameters come from the API's own OpenAPI document (built from the route list's zod
 * schemas); fast-check builds plausible requests from them and mutates them (see
 * tests/support/hostile.ts). For every request: no 5xx, the envelope {ok,data,error} (raw
 * routes may answer 2xx in their own format), no stack trace, source path or SQL in the
 * response, and when the answer is a 4xx, no row of any table written (row counts and a
 * row-version hash per table, before and after).
 *
 * RELIABILITY_SHORT=1: PostgreSQL only, fewer runs per route. HOSTILE_RUNS overrides the runs.
 * Provider calls go to the local fake providers; URL imports only ever reach 127.0.0.1.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteSpec } from '../../src/http/route.js';
import { documentPath } from '../../src/openapi/document.js';
import { ACTORS, type Actor } from '../authz/types.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { storages } from '../support/db.js';
import { type FakeProviders, startFakeProviders } from '../support/fake-providers.js';
import type { Session } from '../support/factories.js';
import {
  type HostileBody,
  hostileBody,
  hostileId,
  hostileQuery,
  hostileString,
  hostileValue,
  type JsonSchema,
  LEAK_PATTERNS,
  PARAM_PLACEHOLDER,
  type QueryParam,
  toWire,
} from '../support/hostile.js';
import { type LocalServer, startLocalServer } from '../support/local-server.js';
import { changedTables, createTenants, fill, type Snapshot, snapshot, type Tenants } from '../support/tenants.js';
import { contractKey } from '../support/routes.js';

const SHORT = process.env.RELIABILITY_SHORT === '1';
const RUNS = Number(process.env.HOSTILE_RUNS ?? (SHORT ? 8 : 80));
const STORAGES = SHORT ? storages().filter((s) => s === 'postgres') : storages();

/** Operations acting on the caller's own account: each request gets a fresh account so the fixture's sessions survive. */
const SELF_DESTRUCTIVE = new Set(['A3', 'S7', 'logoutAll', 'changePassword']);

/** Successful operations that use up a fixture row other than by DELETE (invitations answered, tokens rotated, roles changed). */
const SPENDS_FIXTURE = new Set(['I2', 'I3', 'A4', 'T3', 'C12']);

/** Operations that may answer 2xx as Server-Sent Events (D12; MCP's Streamable HTTP). */
const STREAMING = new Set(['C6', 'mcp']);

/** The MCP endpoint has no zod body (the SDK validates JSON-RPC): plausible requests come from this schema. */
const MCP_BODY: JsonSchema = {
  type: 'object',
  required: ['jsonrpc', 'id', 'method'],
  properties: {
    jsonrpc: { const: '2.0' },
    id: { type: 'integer' },
    method: { enum: ['initialize', 'tools/list', 'tools/call', 'ping', 'resources/list', 'nope'] },
    params: {
      type: 'object',
      properties: {
        protocolVersion: { const: '2025-03-26' },
        name: { enum: ['remember', 'search_memories', 'list_memories', 'get_memory', 'inject_memories', 'nope'] },
        arguments: {
          type: 'object',
          properties: {
            text: { type: 'string' },
            query: { type: 'string' },
            workspace_id: { type: 'string' },
            memory_id: { type: 'string' },
            conversation_id: { type: 'string' },
            limit: { type: 'integer' },
            tags: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    },
  },
};

interface Case {
  actor: Actor;
  ids: string[];
  query: string;
  body: HostileBody;
  upload: { name: string; content: Buffer } | null;
  accept: string | null;
}

interface Totals {
  requests: number;
  byStatus: Record<string, number>;
  routes: number;
}

/** URL-import targets: the local page server, and addresses the SSRF guard must refuse before connecting. */
function importUrls(local: LocalServer): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(
      local.url('/page.html'),
      local.url('/missing'),
      local.url('/redirect-metadata'),
      local.url('/big'),
      'http://127.0.0.1:1/closed',
      'file:///etc/passwd',
      'gopher://127.0.0.1:70/',
      'javascript:alert(1)',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::ffff:7f00:1]/',
      'http://0x7f000001/',
      'http://10.0.0.1/',
      'http://[fe80::1]/',
      'not a url',
      '',
    ),
    hostileString.filter((s) => !/[a-z]+:\/\//i.test(s)),
    hostileValue.filter((v) => typeof v !== 'string'),
  );
}

function bodySchemaOf(op: any): JsonSchema | undefined {
  const content = op?.requestBody?.content ?? {};
  const first = Object.values(content)[0] as { schema?: JsonSchema } | undefined;
  return first?.schema;
}

function pageServer(): Promise<LocalServer> {
  return startLocalServer((req, res) => {
    if (req.url === '/page.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<html><head><title>Local page</title></head><body><article><h1>Local</h1><p>A page served on the loopback interface for import tests, long enough to be kept as a memory.</p></article></body></html>');
    } else if (req.url === '/redirect-metadata') {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
      res.end();
    } else if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('y'.repeat(6 * 1024 * 1024));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('missing');
    }
  });
}

for (const storage of STORAGES) {
  describe(`hostile input on every route [${storage}]`, () => {
    let app: TestApp;
    let fake: FakeProviders;
    let local: LocalServer;
    let tenants: Tenants;
    let doc: any;
    const totals: Totals = { requests: 0, byStatus: {}, routes: 0 };

    beforeAll(async () => {
      fake = await startFakeProviders();
      local = await pageServer();
      app = await startTestApp(storage, { ...fake.env, URL_IMPORT_ALLOW_HOSTS: '127.0.0.1', LOG_LEVEL: 'warn' });
      tenants = await createTenants(app);
      doc = (await app.http.get('/api/openapi.json')).body;
    });

    afterAll(async () => {
      console.log(
        `hostile input [${storage}]: ${totals.requests} requests over ${totals.routes} routes × ${ACTORS.length} actors (${RUNS} generated cases per route); statuses ${JSON.stringify(totals.byStatus)}`,
      );
      await app?.close();
      await fake?.close();
      await local?.close();
    });

    let lastSnapshot: Snapshot | undefined;

    async function sessionFor(spec: RouteSpec, actor: Actor): Promise<Session | null> {
      if (actor === 'anonymous') return null;
      if (SELF_DESTRUCTIVE.has(contractKey(spec))) {
        lastSnapshot = undefined;
        return tenants.throwaway();
      }
      return tenants.fixture.sessions[actor];
    }

    async function probe(spec: RouteSpec, c: Case): Promise<string[]> {
      const ownIds = tenants.own();
      const otherIds = tenants.other.ids;
      let i = 0;
      const path = spec.path.replace(/:(\w+)/g, () => fill(c.ids[i++]!, ownIds, otherIds));
      const url = `${spec.root ? '' : '/api'}${path}${c.query ? `?${fill(c.query, ownIds, otherIds)}` : ''}`;
      const session = await sessionFor(spec, c.actor);

      const before = (lastSnapshot ??= await snapshot(app.deps.prisma));
      let call = app.http[spec.method](url).timeout(30_000);
      if (session) call = call.set('Authorization', `Bearer ${session.token}`);
      if (c.accept) call = call.set('Accept', c.accept);
      if (c.upload) {
        call = call.field('summarize', 'false').attach('file', c.upload.content, { filename: c.upload.name, contentType: 'application/octet-stream' });
      } else if (c.body.kind === 'json') {
        call = call.set('Content-Type', 'application/json').send(fill(toWire(c.body.value), ownIds, otherIds));
      } else if (c.body.kind === 'raw') {
        call = call.set('Content-Type', c.body.type).send(fill(c.body.text, ownIds, otherIds));
      }
      const sentAt = Date.now();
      const res = await call;
      if (process.env.HOSTILE_VERBOSE && Date.now() - sentAt > 1000) console.log(`slow: ${Date.now() - sentAt} ms ${c.actor} ${spec.method} ${url.slice(0, 120)} ${JSON.stringify(c.body).slice(0, 200)} → ${res.status} ${res.text.slice(0, 100)}`);
      await Promise.allSettled([...app.deps.background]); // work the request started lands before the snapshot
      const after = await snapshot(app.deps.prisma);
      lastSnapshot = after;
      totals.requests++;
      const klass = `${Math.floor(res.status / 100)}xx`;
      totals.byStatus[klass] = (totals.byStatus[klass] ?? 0) + 1;

      const problems: string[] = [];
      const text = res.text ?? '';
      const where = `${c.actor} ${spec.method.toUpperCase()} ${url.slice(0, 200)} → ${res.status}`;
      if (res.status >= 500) {
        const logged = app.logs.filter((l) => l.includes('unhandled error')).at(-1) ?? '';
        problems.push(`${where}: server error ${text.slice(0, 300)}\n  request: ${JSON.stringify({ body: c.body, upload: c.upload && { name: c.upload.name, bytes: c.upload.content.length } }).slice(0, 600)}\n  log: ${logged.slice(0, 1500)}`);
      }
      const isJson = /application\/json/.test(res.headers['content-type'] ?? '');
      const streamed = STREAMING.has(contractKey(spec)) && /^text\/event-stream/.test(res.headers['content-type'] ?? '');
      const rawSuccess = (spec.raw || streamed) && res.status < 300;
      if (!rawSuccess && res.status !== 304) {
        if (!isJson) problems.push(`${where}: not JSON (${res.headers['content-type']}) ${text.slice(0, 200)}`);
        else {
          const b = res.body;
          const keys = b && typeof b === 'object' && !Array.isArray(b) ? Object.keys(b).sort().join(',') : typeof b;
          // The MCP endpoint speaks JSON-RPC (its SDK's errors included), as MCP clients expect.
          const jsonRpc = contractKey(spec) === 'mcp' && keys === 'error,id,jsonrpc' && b.jsonrpc === '2.0';
          if (jsonRpc) {
            /* JSON-RPC error object */
          } else if (keys !== 'data,error,ok') problems.push(`${where}: not the envelope (${keys}) ${text.slice(0, 200)}`);
          else if (b.ok !== res.status < 400) problems.push(`${where}: ok=${b.ok} with status ${res.status}`);
          else if (!b.ok && b.error === null) problems.push(`${where}: failure without an error`);
        }
      }
      const checked = res.status < 300 ? text.replace(/"(?:[^"\\]|\\.)*"/g, '""') : text; // successes echo user text: check their structure only
      // URL imports answer "Request failed: <first 80 characters of the fetch error>" (contract §2.x M8): connection errors are expected there.
      const patterns = contractKey(spec) === 'M8' ? LEAK_PATTERNS.filter((p) => !p.test('ECONNREFUSED')) : LEAK_PATTERNS;
      for (const p of patterns) if (p.test(res.status < 300 ? checked : text)) problems.push(`${where}: leaks internals (${p}) ${text.slice(0, 300)}`);

      if (res.status >= 400) {
        const changed = changedTables(before, after);
        // Send-message keeps the user's message when the reply fails (the envelope's data carries it).
        const keptMessage = contractKey(spec) === 'C6' && res.body?.data?.userMessage;
        // Presenting a used refresh token ends its whole session (reuse detection), then answers 401.
        const reuseRevoked = contractKey(spec) === 'A4' && res.status === 401;
        const allowed = new Set<string>(keptMessage ? ['chat_messages', 'conversations', 'workspace_counters', 'activities'] : reuseRevoked ? ['refresh_tokens', 'revoked_token_families'] : []);
        const unexpected = changed.filter((t) => !allowed.has(t));
        if (unexpected.length) problems.push(`${where}: a ${res.status} changed ${unexpected.join(', ')} ${text.slice(0, 200)}`);
      } else if (spec.method === 'delete' || SPENDS_FIXTURE.has(contractKey(spec))) {
        // The own tenant lost a row (or an invitation or token was used up): give the next case a fresh one.
        await tenants.refresh();
        lastSnapshot = undefined;
      }
      return problems;
    }

    /** Generated cases for one route; resolves to null or the (shrunk) failure. */
    async function probeRoute(spec: RouteSpec): Promise<string | null> {
      const op = doc.paths[documentPath(spec)]?.[spec.method];
      expect(op, `${contractKey(spec)} is in the OpenAPI document`).toBeTruthy();
      const params = [...spec.path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
      const queryParams: QueryParam[] = (op.parameters ?? []).filter((p: { in: string }) => p.in === 'query');
      let bodyArb = hostileBody(contractKey(spec) === 'mcp' ? MCP_BODY : bodySchemaOf(op));
      if (contractKey(spec) === 'M8') {
        // URL imports: the url field only ever names loopback targets or addresses refused before any connection.
        bodyArb = fc.tuple(bodyArb, importUrls(local)).map(([b, u]) =>
          b.kind === 'json' && b.value && typeof b.value === 'object' && !Array.isArray(b.value) ? { kind: 'json', value: { ...(b.value as object), url: u } } : b.kind === 'raw' && /\b(?:https?|ftp|wss?):/i.test(b.text) ? { kind: 'none' } : b,
        );
      }
      const upload =
        spec.requestMediaType === 'multipart/form-data'
          ? fc.option(
              fc.record({
                name: fc.oneof(fc.constantFrom('notes.txt', 'page.html', 'data.json', 'x.pdf', 'a.docx', '../../../etc/passwd', '..\\win.ini', '.txt', 'no-extension', `${'n'.repeat(300)}.txt`, 'evil\u202Etxt.exe', 'nul\u0000.txt', '😀.md', 'a.csv'), hostileString.filter((s) => s.length < 500)),
                content: fc.oneof(fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)), fc.string({ maxLength: 400 }).map((s) => Buffer.from(`${s} hostile upload content`)), fc.constantFrom(Buffer.from('%PDF-1.4 broken'), Buffer.from('PK\u0003\u0004broken zip'), Buffer.from('{"a":'), Buffer.alloc(0))),
              }),
              { freq: 2 },
            )
          : fc.constant(null);
      const arb = fc.record({
        actor: fc.constantFrom(...ACTORS),
        ids: fc.tuple(...params.map((p) => hostileId(PARAM_PLACEHOLDER[p]))),
        query: hostileQuery(queryParams),
        body: bodyArb,
        upload,
        accept: fc.constantFrom(null, null, 'application/json, text/event-stream', 'text/event-stream', '*/*', 'text/html'),
      }) as fc.Arbitrary<Case>;
      totals.routes++;
      const result = await fc.check(
        fc.asyncProperty(arb, async (c) => {
          const problems = await probe(spec, c);
          if (problems.length) throw new Error(problems.join('\n'));
        }),
        { numRuns: RUNS, interruptAfterTimeLimit: SHORT ? 20_000 : 120_000, markInterruptAsFailure: false, maxSkipsPerRun: 0 },
      );
      if (!result.failed) return null;
      const err = result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance);
      return `${contractKey(spec)} ${spec.method.toUpperCase()} ${spec.path} (seed ${result.seed}, path ${result.counterexamplePath}):\n${err.slice(0, 2000)}`;
    }

    it('no route answers hostile input with a 5xx, a non-envelope, leaked internals or a side effect on a 4xx', async () => {
      expect(app.app.routeSpecs.length).toBeGreaterThan(50);
      const only = process.env.HOSTILE_ROUTES?.split(',');
      const failures: string[] = [];
      for (const spec of app.app.routeSpecs) {
        if (only && !only.includes(contractKey(spec))) continue;
        const started = Date.now();
        const failure = await probeRoute(spec);
        if (process.env.HOSTILE_VERBOSE) console.log(`${contractKey(spec)}: ${Date.now() - started} ms${failure ? ` FAILED\n${failure}` : ''}`);
        if (failure) failures.push(failure);
      }
      expect(failures).toEqual([]);
    });
  });
}
