/**
 * `npm run openapi:tools`: drives the server through third-party OpenAPI tools and reports what
 * they find (exit code 1 on any finding):
 *   1. Prism, as a validating proxy in front of the server, during a journey through every
 *      operation (scripts/openapi-journey.ts): every request/response violation it reports;
 *   2. Newman, over the Postman collection openapi-to-postmanv2 converts the document into,
 *      with the journey's real ids and token: the collection's requests, each asserting that
 *      its status, media type and body are what the document declares for the operation.
 * Takes a minute or two; kept out of `npm test` (the suite checks every response it receives
 * against the document with Ajv already).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import newman from 'newman';
import converter from 'openapi-to-postmanv2';
import { parse } from 'yaml';
import { journey, startStack } from './openapi-journey.js';

const root = new URL('..', import.meta.url).pathname;
const documentText = readFileSync(new URL('openapi.yaml', `file://${root}`), 'utf8');
const doc = parse(documentText) as { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown>; responses: Record<string, Response> } };
interface Response {
  $ref?: string;
  content?: Record<string, { schema?: Record<string, unknown> }>;
}
interface Operation {
  operationId: string;
  responses: Record<string, Response>;
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

async function startPrism(upstream: string): Promise<{ origin: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(new URL('node_modules/.bin/prism', `file://${root}`).pathname, ['proxy', 'openapi.yaml', upstream, '--port', String(port), '--errors', 'false', '--cors', 'false'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk;
      if (out.includes('Prism is listening')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`prism exited with ${code}:\n${out}`)));
  });
  return { origin: `http://127.0.0.1:${port}`, child };
}

async function prismCheck(origin: string, pageUrl: string) {
  const prism = await startPrism(origin);
  try {
    const { exchanges } = await journey(prism.origin, pageUrl);
    const violations = exchanges.flatMap((e) => {
      const header = e.headers.get('sl-violations');
      if (!header) return [];
      const found = JSON.parse(header) as { location: string[]; severity: string; message: string }[];
      return found.map((v) => `${e.method} ${e.path} → ${e.status}: [${v.severity}] ${v.location.join('.')}: ${v.message}`);
    });
    const operations = new Set(exchanges.map((e) => `${e.method} ${e.path.split('?')[0]}`));
    console.log(`Prism proxy: ${exchanges.length} requests (${operations.size} distinct URLs), ${violations.length} violations`);
    for (const v of violations) console.log(`  ${v}`);
    return violations.length;
  } finally {
    prism.child.kill('SIGTERM');
  }
}

/** The documented responses of an operation, `$ref`s resolved. */
const responsesOf = (op: Operation) =>
  Object.fromEntries(Object.entries(op.responses).map(([status, r]) => [status, r.$ref ? doc.components.responses[r.$ref.split('/').pop()!]! : r]));

/** Test script of one request: its status, media type and JSON body are the document's. */
function assertions(op: Operation): string[] {
  const responses = responsesOf(op);
  const bodySchemas = Object.fromEntries(
    Object.entries(responses).flatMap(([status, r]) => {
      const schema = r.content?.['application/json']?.schema;
      return schema ? [[status, { ...schema, components: { schemas: doc.components.schemas } }]] : [];
    }),
  );
  const mediaTypes = Object.fromEntries(Object.entries(responses).map(([status, r]) => [status, Object.keys(r.content ?? {})]));
  return [
    `const statuses = ${JSON.stringify(Object.keys(responses))};`,
    `const mediaTypes = ${JSON.stringify(mediaTypes)};`,
    `const schemas = ${JSON.stringify(bodySchemas)};`,
    'const status = String(pm.response.code);',
    `pm.test('${op.operationId}: the status is documented', () => pm.expect(statuses).to.include(status));`,
    'const type = (pm.response.headers.get("Content-Type") || "").split(";")[0].trim();',
    `pm.test('${op.operationId}: the media type is documented', () => { if (mediaTypes[status] && mediaTypes[status].length) pm.expect(mediaTypes[status]).to.include(type); });`,
    `pm.test('${op.operationId}: the body matches the documented schema', () => { if (schemas[status] && type === 'application/json') pm.response.to.have.jsonSchema(schemas[status]); });`,
  ];
}

/** Operations that end the session or the account, in the order they run after every other request. */
const FINALLY = ['changePassword', 'logout', 'logoutAll', 'deleteAccount'];

async function newmanCheck(origin: string, pageUrl: string) {
  const { ids } = await journey(origin, pageUrl);
  const converted = await new Promise<{ result: boolean; reason?: string; output: { data: any }[] }>((resolve, reject) =>
    converter.convert(
      { type: 'string', data: documentText },
      { requestParametersResolution: 'Example', exampleParametersResolution: 'Example', folderStrategy: 'Tags', enableOptionalParameters: false },
      (error: unknown, result: any) => (error ? reject(error) : resolve(result)),
    ),
  );
  if (!converted.result) throw new Error(`openapi-to-postmanv2: ${converted.reason}`);
  const collection = converted.output[0]!.data;
  const byOperation = new Map<string, Operation>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) byOperation.set(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`, op);
  }
  // Real ids for every path variable, the journey's token for bearer auth.
  const values: Record<string, string> = { ...ids, userId: ids.memberUserId };
  const requests: { item: any; rank: number }[] = [];
  const visit = (items: any[]) => {
    for (const item of items) {
      if (item.item) visit(item.item);
      if (!item.request) continue;
      const path = `/${(item.request.url.path as string[]).join('/')}`;
      const op = byOperation.get(`${item.request.method} ${path}`);
      if (!op) throw new Error(`no operation for ${item.request.method} ${path}`);
      for (const variable of item.request.url.variable ?? []) variable.value = values[variable.key] ?? variable.value;
      item.event = [{ listen: 'test', script: { type: 'text/javascript', exec: assertions(op) } }];
      const last = FINALLY.indexOf(op.operationId);
      requests.push({ item, rank: last >= 0 ? 2 + last : item.request.method === 'DELETE' ? 1 : 0 });
    }
  };
  visit(collection.item);
  // One run, one token: deletions run after the rest, then what ends the session, the account's deletion at the very end.
  collection.item = requests.sort((a, b) => a.rank - b.rank).map((r) => r.item);
  collection.variable = [
    { key: 'baseUrl', value: origin },
    { key: 'bearerToken', value: ids.token },
  ];
  const summary = await new Promise<any>((resolve, reject) =>
    newman.run({ collection, reporters: [], timeoutRequest: 30_000 }, (error: unknown, result: any) => (error ? reject(error) : resolve(result))),
  );
  const { assertions: counted } = summary.run.stats;
  const statuses = new Map<string, number>();
  for (const execution of summary.run.executions) {
    const family = `${String(execution.response?.code ?? 'none')[0]}xx`;
    statuses.set(family, (statuses.get(family) ?? 0) + 1);
  }
  const answered = [...statuses].sort().map(([family, n]) => `${n} ${family}`).join(', ');
  console.log(`Newman: ${requests.length} requests (${answered}), ${counted.total} assertions, ${counted.failed} failed`);
  if (process.env.NEWMAN_VERBOSE) for (const e of summary.run.executions) console.log(`  ${e.item.name}: ${e.response?.code} ${String(e.response?.stream ?? '').slice(0, 120)}`);
  for (const failure of summary.run.failures) console.log(`  ${failure.source?.name ?? ''}: ${failure.error.test ?? ''}: ${failure.error.message}`);
  return counted.failed as number;
}

const stack = await startStack();
let findings = 0;
try {
  findings += await prismCheck(stack.origin, stack.pageUrl);
  findings += await newmanCheck(stack.origin, stack.pageUrl);
} finally {
  await stack.stop();
}
process.exit(findings === 0 ? 0 : 1);
