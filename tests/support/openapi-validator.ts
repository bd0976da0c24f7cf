/**
 * Checks every response a test server sends against the OpenAPI document: the operation its
 * method and path name, then the status (an undocumented one fails), the media type and the
 * body, with Ajv against the schema the document gives for that operation and status.
 * Failures are collected here and fail the running test (tests/support/setup.ts); the counts
 * go to the run's summary (tests/support/openapi-coverage-reporter.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import type { ChimeraApp } from '../../src/app.js';
import { packageVersion } from '../../src/bootstrap.js';
import type { RouteSpec } from '../../src/http/route.js';
import { buildOpenApiDocument } from '../../src/openapi/document.js';
import { documentRoutes as openApiDocumentRoutes } from '../../src/openapi/yaml.js';

type JsonSchema = Record<string, unknown>;
interface Media {
  schema?: JsonSchema;
  'x-sse-events'?: Record<string, JsonSchema>;
}
interface ResponseObject {
  $ref?: string;
  content?: Record<string, Media>;
}
interface Operation {
  key: string;
  method: string;
  test: RegExp;
  params: number;
  responses: Record<string, ResponseObject>;
}

/** Bodies above this are counted but not parsed (nothing in the suites comes close). */
const MAX_BODY = 32 * 1024 * 1024;

export interface Tally {
  validated: number;
  /** `METHOD /path` of every operation a response was validated for. */
  operations: string[];
}

interface Checker {
  doc: ReturnType<typeof buildOpenApiDocument>;
  ajv: Ajv2020;
  operations: Operation[];
  compiled: Map<string, ValidateFunction>;
}

const failures: string[] = [];
/** Counted since the last takeTally(). */
let exercised = new Set<string>();
let validated = 0;

/** One checker per set of routes: an app started with ENABLE_DOCS=false has no docs operations. */
const checkers = new Map<string, Checker>();

function checkerFor(specs: RouteSpec[]): Checker {
  const key = specs.map((s) => `${s.method} ${s.root ? '' : '/api'}${s.path}`).join('\n');
  const known = checkers.get(key);
  if (known) return known;
  const doc = buildOpenApiDocument(specs, { version: packageVersion });
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  formats.default(ajv);
  ajv.addSchema({ $id: 'openapi', components: doc.components }, 'openapi');
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { responses: Record<string, ResponseObject> }>>)) {
    const pattern = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '[^/]+');
    for (const [method, op] of Object.entries(item)) {
      operations.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        test: new RegExp(`^${pattern}$`),
        params: (path.match(/\{/g) ?? []).length,
        responses: op.responses,
      });
    }
  }
  // A literal segment wins over a parameter (/api/memories/search before /api/memories/{memoryId}).
  operations.sort((a, b) => a.params - b.params);
  const checker = { doc, ajv, operations, compiled: new Map() };
  checkers.set(key, checker);
  return checker;
}

/** The checker of the document as the routes declare it with the default configuration. */
const defaultChecker = () => checkerFor(openApiDocumentRoutes());

const withLinks = (schema: JsonSchema): JsonSchema =>
  JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/')) as JsonSchema;

function validator(checker: Checker, key: string, schema: JsonSchema): ValidateFunction {
  const { ajv, compiled } = checker;
  const known = compiled.get(key);
  if (known) return known;
  const fn = ajv.compile(withLinks(schema));
  compiled.set(key, fn);
  return fn;
}

function resolveResponse(checker: Checker, response: ResponseObject): ResponseObject {
  if (!response.$ref) return response;
  const name = response.$ref.split('/').pop()!;
  return (checker.doc.components.responses as Record<string, ResponseObject>)[name]!;
}

/** Server-Sent Events of a body: each `event:` name with its parsed `data:`. */
function events(text: string): { event: string; data: string }[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message';
      const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      return { event, data };
    });
}

const describeErrors = (fn: ValidateFunction) =>
  (fn.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`).join('; ');

/** Checks one finished response; returns why it does not match the document, or null. */
export function checkResponse(
  method: string, url: string, status: number, contentType: string | undefined, body: Buffer | null, checker: Checker = defaultChecker(),
): string | null {
  if (method === 'HEAD' || method === 'OPTIONS') return null;
  const rawPath = url.split('?')[0]!;
  const path = rawPath.length > 1 ? rawPath.replace(/\/+$/, '') : rawPath;
  const operation = checker.operations.find((o) => o.method === method && o.test.test(path));
  if (!operation) return null; // not an operation: 404 and 405 answers of the framework
  validated++;
  exercised.add(operation.key);
  const where = `${operation.key} → ${status}`;
  const declared = operation.responses[String(status)] ?? operation.responses.default;
  if (!declared) return `${where}: status not in the document (${Object.keys(operation.responses).join(', ')})`;
  const response = resolveResponse(checker, declared);
  const content = response.content;
  if (!content) return body && body.length > 0 ? `${where}: the document declares no body, ${body.length} bytes sent` : null;
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const media = content[mediaType];
  if (!media) return `${where}: media type ${mediaType || '(none)'} not in the document (${Object.keys(content).join(', ')})`;
  if (body === null) return null; // larger than MAX_BODY: counted, not parsed
  const text = body.toString('utf8');
  if (media['x-sse-events']) {
    for (const { event, data } of events(text)) {
      const schema = media['x-sse-events'][event];
      if (!schema) return `${where}: event "${event}" not in the document`;
      const fn = validator(checker, `${where} ${event}`, schema);
      if (!fn(JSON.parse(data))) return `${where}: event ${event}: ${describeErrors(fn)}`;
    }
    return null;
  }
  if (!mediaType.endsWith('json') || !media.schema) return null; // HTML, scripts, YAML: the media type is the contract
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return `${where}: body is not JSON: ${text.slice(0, 100)}`;
  }
  const fn = validator(checker, `${where} ${mediaType}`, media.schema);
  return fn(value) ? null : `${where}: ${describeErrors(fn)}\n  body: ${text.slice(0, 300)}`;
}

/** The body as sent before its content-coding (the JSON writer compresses large ones). */
function decoded(res: ServerResponse, body: Buffer): Buffer {
  const coding = res.getHeader('content-encoding');
  if (coding === 'br') return brotliDecompressSync(body);
  if (coding === 'gzip') return gunzipSync(body);
  return body;
}

/**
 * A 'request' listener checking the responses of an app against the document of its routes.
 * Must run before the app's own listener (prependListener), so that it sees every write, the
 * synchronous ones included.
 */
export function responseChecker(app: ChimeraApp): (req: IncomingMessage, res: ServerResponse) => void {
  const checker = checkerFor(app.routeSpecs);
  return (req, res) => {
    // As the client sent it: routers rewrite req.url below their mount path while they route.
    const url = req.url ?? '/';
    const chunks: Buffer[] = [];
    let size = 0;
    const keep = (chunk: unknown, encoding?: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
      size += buffer.length;
      if (size <= MAX_BODY) chunks.push(buffer);
    };
    const write = res.write.bind(res);
    const end = res.end.bind(res);
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      keep(chunk, rest[0]);
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof res.write;
    res.end = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      // A response to a client that is gone reaches nobody (a disconnect mid-stream).
      if (!res.socket?.destroyed) {
        const type = res.getHeader('content-type') as string | undefined;
        const problem = checkResponse(req.method ?? 'GET', url, res.statusCode, type, size <= MAX_BODY ? decoded(res, Buffer.concat(chunks)) : null, checker);
        if (problem) failures.push(problem);
      }
      return (end as (...args: unknown[]) => ServerResponse)(...args);
    }) as typeof res.end;
  };
}

/** The app as a request listener that checks its responses, for tests serving an app without startTestApp. */
export function checked(app: ChimeraApp): (req: IncomingMessage, res: ServerResponse) => void {
  const check = responseChecker(app);
  return (req, res) => {
    check(req, res);
    app(req, res);
  };
}

/** The mismatches found since the last call. */
export function takeFailures(): string[] {
  return failures.splice(0);
}

/** What was checked since the last call. */
export function takeTally(): Tally {
  const taken = { validated, operations: [...exercised].sort() };
  validated = 0;
  exercised = new Set();
  return taken;
}
