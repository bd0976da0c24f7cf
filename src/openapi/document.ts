/**
 * Builds the OpenAPI 3.1 document from the route specs and their zod schemas: the document
 * cannot describe a route that does not exist, nor miss one that does, and every response is
 * described by the same schemas that type the presenters.
 */
import { z } from 'zod';
import type { ResponseDoc, RouteSpec } from '../http/route.js';
import type { KeyAccess } from '../policies/scopes.js';
import { ErrorEnvelope } from '../schemas/responses/common.js';
import { exampleOf } from './examples.js';
import { PATH_PARAMETERS, QUERY_PARAMETERS, REQUEST_EXAMPLES, TAGS } from './vocabulary.js';

type JsonSchema = Record<string, unknown>;

export interface DocumentInfo {
  version: string;
  /** The server the paths are relative to: scheme, host and port, no path. */
  serverUrl?: string;
}

export const DEFAULT_SERVER = 'http://127.0.0.1:8000';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** The Express path as an OpenAPI path below the server: `/api/workspaces/{workspaceId}`. */
export const documentPath = (spec: Pick<RouteSpec, 'path' | 'root'>) => `${spec.root ? '' : '/api'}${spec.path.replace(/:(\w+)/g, '{$1}')}`;

/** zod → JSON Schema, named components moved to `components.schemas` and referenced from there. */
class Components {
  readonly schemas: Record<string, JsonSchema> = {};

  schema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const out = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
    delete out.$schema;
    const defs = (out.$defs ?? {}) as Record<string, JsonSchema>;
    delete out.$defs;
    for (const [name, def] of Object.entries(defs)) {
      const moved = relinked(def) as JsonSchema;
      const known = this.schemas[name];
      if (known && JSON.stringify(known) !== JSON.stringify(moved)) throw new Error(`OpenAPI: two different schemas are named ${name}`);
      this.schemas[name] = moved;
    }
    return relinked(out) as JsonSchema;
  }

  /** The schema a `$ref` names (for examples). */
  resolve = (schema: JsonSchema): JsonSchema => {
    const ref = schema.$ref;
    return typeof ref === 'string' ? this.resolve(this.schemas[ref.split('/').pop()!] ?? {}) : schema;
  };
}

const relinked = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(relinked);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? v.replace('#/$defs/', '#/components/schemas/') : relinked(v)]),
  );
};

const isZod = (value: unknown): value is z.ZodType => value instanceof z.ZodType;

const envelope = (data: JsonSchema, ok: boolean, error: JsonSchema) => ({
  type: 'object',
  required: ['ok', 'data', 'error'],
  additionalProperties: false,
  properties: { ok: { const: ok }, data, error },
});

const ref = (kind: 'schemas' | 'responses', name: string) => ({ $ref: `#/components/${kind}/${name}` });

/** Responses every operation of a kind may give, defined once under components/responses. */
const SHARED_RESPONSES = {
  NotModified: { description: 'Not modified: the If-None-Match header names the current ETag (no body)' },
  Unauthorized: {
    description: 'Missing, invalid, expired or revoked access token or API key',
    headers: {
      'WWW-Authenticate': {
        description:
          'Bearer realm="api" alone when no token was sent; error="invalid_token" with error_description "The access token expired" (refresh it), ' +
          '"The access token is invalid" or "The access token was revoked" (sign in again), or "The API key is invalid", "The API key was revoked" or "The API key expired"; error="invalid_request" for a malformed Authorization header',
        schema: { type: 'string' },
      },
    },
  },
  KeyRefused: { description: 'Access denied: the caller may not do this, or an API key lacks the scope it needs (the message names it), is limited to other workspaces, or cannot be used here at all' },
  KeyRateLimited: {
    description: 'Too many requests with this API key (API_KEY_RATE_LIMIT per API_KEY_RATE_LIMIT_WINDOW)',
    headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } },
  },
  MalformedBody: { description: 'Malformed request: a JSON parse error, a body that is not the compression it claims, or a broken percent-escape in the URL' },
  TooLarge: { description: 'Request body larger than BODY_LIMIT' },
  UnsupportedEncoding: { description: 'A body in a Content-Encoding or charset the server does not read' },
  ServerError: { description: 'Internal server error (details go to the log)' },
  Unavailable: {
    description: 'Database unavailable or busy; retry after a few seconds',
    headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } },
  },
} as const;

/** The error envelope, with an example of its message. */
const errorContent = (error: string) => ({ 'application/json': { schema: ref('schemas', 'ErrorEnvelope'), example: { ok: false, data: null, error } } });

const ERROR_EXAMPLES: Record<string, string> = {
  Unauthorized: 'Authentication credentials were not provided.',
  KeyRefused: 'This API key lacks the scope "memories:write"',
  KeyRateLimited: 'Too many requests with this API key. Please try again later.',
  MalformedBody: 'JSON parse error - Unexpected end of JSON input',
  TooLarge: 'Request body too large',
  UnsupportedEncoding: 'Unsupported content encoding',
  ServerError: 'Internal server error',
  Unavailable: 'Database unavailable',
};

/** What an API key needs on an operation, as its description says it. */
function keyAccessText(access: KeyAccess): string {
  if (access === null) return 'API keys are refused (403).';
  if (access === 'any') return 'Any API key; what each call reaches then needs its own scope.';
  return `An API key needs the scope \`${access}\`.`;
}

export function buildOpenApiDocument(specs: RouteSpec[], info: DocumentInfo) {
  const components = new Components();
  components.schema(ErrorEnvelope, 'output');
  const sharedResponses = Object.fromEntries(
    Object.entries(SHARED_RESPONSES).map(([name, response]) => {
      const error = ERROR_EXAMPLES[name];
      // A 304 has no body; the others are the error envelope.
      return [name, error ? { ...response, content: errorContent(error) } : response];
    }),
  );

  const jsonMedia = (schema: JsonSchema, example: unknown) => ({ 'application/json': { schema, example } });

  /** A documented response from a ResponseDoc. */
  const described = (status: number, doc: ResponseDoc): JsonSchema => {
    const out: JsonSchema = { description: doc.description };
    if (doc.headers) out.headers = Object.fromEntries(Object.entries(doc.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]));
    if (doc.content && Object.keys(doc.content).length === 0) {
      // No body (202 Accepted).
    } else if (doc.content) {
      out.content = Object.fromEntries(
        Object.entries(doc.content).map(([mediaType, schema]) => {
          if (!schema) return [mediaType, { schema: { type: 'string' } }];
          const json = components.schema(schema, 'output');
          const example = exampleOf(json, components.resolve);
          return [mediaType, example === undefined ? { schema: json } : { schema: json, example }];
        }),
      );
    } else if (doc.events) {
      const events = Object.fromEntries(Object.entries(doc.events).map(([name, schema]) => [name, components.schema(schema, 'output')]));
      out.content = {
        'text/event-stream': {
          schema: {
            type: 'string',
            description: `Server-Sent Events, each "event: <name>\\ndata: <JSON>\\n\\n"; events: ${Object.keys(events).join(', ')} (their data in x-sse-events)`,
          },
          'x-sse-events': events,
        },
      };
    } else {
      const ok = status < 400;
      const data = doc.data ? components.schema(doc.data, 'output') : { type: 'null' };
      const example = { ok, data: doc.data ? exampleOf(data, components.resolve) : null, error: ok ? null : firstLine(doc.description) };
      out.content = jsonMedia(doc.data || ok ? envelope(data, ok, ok ? { type: 'null' } : { anyOf: [{ type: 'string' }, ref('schemas', 'FieldErrors')] }) : ref('schemas', 'ErrorEnvelope'), example);
    }
    return out;
  };

  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) {
    const status = spec.status ?? 200;
    const responses: Record<string, unknown> = {};
    if (spec.response === undefined) throw new Error(`OpenAPI: ${spec.operationId} declares no response`);
    if (isZod(spec.response)) {
      const data = components.schema(spec.response, 'output');
      const headers = spec.method === 'get' ? { ETag: { description: 'Weak ETag of the body; send it back in If-None-Match to get 304 when unchanged', schema: { type: 'string' } } } : undefined;
      responses[String(status)] = {
        description: 'Success',
        ...(headers ? { headers } : {}),
        content: jsonMedia(envelope(data, true, { type: 'null' }), { ok: true, data: exampleOf(data, components.resolve), error: null }),
      };
    } else {
      responses[String(status)] = described(status, spec.response);
    }
    for (const [code, doc] of Object.entries(spec.responses ?? {})) {
      responses[code] = typeof doc === 'string' ? { description: doc, content: errorContent(firstLine(doc)) } : described(Number(code), doc);
    }
    // GET answers carry an ETag and honour If-None-Match (D21); a download streams without one.
    const download = !isZod(spec.response) && spec.response.headers?.['Content-Disposition'] !== undefined;
    if (spec.method === 'get' && !download) responses['304'] ??= ref('responses', 'NotModified');
    const params = [...spec.path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
    if (params.length > 0) responses['404'] ??= { description: 'Not found', content: errorContent('Not found') };
    if (spec.access === 'user') {
      responses['401'] ??= ref('responses', 'Unauthorized');
      responses['403'] ??= ref('responses', 'KeyRefused');
      responses['429'] ??= ref('responses', 'KeyRateLimited');
    }
    if (spec.body || spec.query) responses['400'] ??= { description: 'Invalid input', content: errorContent('This field is required.') };
    responses['400'] ??= ref('responses', 'MalformedBody');
    responses['413'] ??= ref('responses', 'TooLarge');
    if (spec.body && !spec.requestMediaType) {
      responses['415'] ??= {
        description: 'A body that is neither application/json nor application/x-www-form-urlencoded, or in an encoding the server does not read',
        content: errorContent('Unsupported media type "text/plain": send application/json'),
      };
    }
    responses['415'] ??= ref('responses', 'UnsupportedEncoding');
    responses['500'] ??= ref('responses', 'ServerError');
    responses['503'] ??= ref('responses', 'Unavailable');

    const access =
      spec.access === 'user'
        ? `Requires a bearer token; the caller needs \`${spec.policy.resource.name}: ${spec.policy.action}\`. ${keyAccessText(spec.policy.resource.keys[spec.policy.action] ?? null)}`
        : 'Public: no token needed.';
    const operation: Record<string, unknown> = {
      operationId: spec.operationId,
      summary: firstLine(spec.summary),
      description: [spec.description ?? spec.summary, access].join('\n\n'),
      tags: [spec.tag],
      ...(spec.contractId ? { 'x-contract-id': spec.contractId } : {}),
      parameters: [
        ...params.map((name) => ({ name, in: 'path', required: true, description: PATH_PARAMETERS[name] ?? name, schema: { type: 'string' } })),
        ...queryParameters(components, spec.query),
      ],
      security: spec.access === 'user' ? [{ bearerAuth: [] }] : [],
    };
    if ((operation.parameters as unknown[]).length === 0) delete operation.parameters;
    const body = spec.body ?? spec.requestDoc;
    if (body) {
      const schema = components.schema(body, 'input');
      // Multipart routes receive the file through the upload middleware, not the zod schema.
      if (spec.requestMediaType === 'multipart/form-data') {
        schema.properties = { file: { type: 'string', format: 'binary', description: 'The document' }, ...(schema.properties as object) };
        schema.required = ['file'];
      }
      const example = REQUEST_EXAMPLES[spec.operationId];
      operation.requestBody = {
        required: spec.requestDoc !== undefined || spec.requestMediaType !== undefined,
        content: { [spec.requestMediaType ?? 'application/json']: { schema, ...(example === undefined ? {} : { example }) } },
      };
    }
    operation.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
    (paths[documentPath(spec)] ??= {})[spec.method] = operation;
  }

  const usedTags = new Set(specs.map((s) => s.tag));
  return {
    openapi: '3.1.0',
    info: {
      title: 'Chimera API',
      version: info.version,
      description:
        'Backend of Chimera Protocol, a multi-LLM AI workspace. Every JSON response is an envelope {ok, data, error}: data is the payload on success; ' +
        'error is a message, or DRF-style field errors {field: [messages]}, on failure. The export file, the event stream of a streamed reply, ' +
        'the MCP endpoint and the documentation pages are not enveloped.',
      license: { name: 'UNLICENSED', url: 'https://docs.npmjs.com/cli/v10/configuring-npm/package-json#license' },
    },
    servers: [{ url: info.serverUrl ?? DEFAULT_SERVER, description: 'This server (the API under /api, the MCP endpoint at /mcp)' }],
    tags: TAGS.filter((t) => usedTags.has(t.name)),
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'The access token (JWT) from POST /api/auth/login or /api/auth/register, or a personal API key (chm_…) from POST /api/auth/api-keys',
        },
      },
      schemas: Object.fromEntries(Object.entries(components.schemas).sort(([a], [b]) => a.localeCompare(b))),
      responses: sharedResponses,
    },
    paths: Object.fromEntries(
      Object.entries(paths).map(([path, item]) => [path, Object.fromEntries(HTTP_METHODS.filter((m) => item[m]).map((m) => [m, item[m]]))]),
    ),
  };
}

function queryParameters(components: Components, schema: z.ZodType | undefined) {
  if (!schema) return [];
  const js = components.schema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => {
    const { description, ...rest } = s;
    return {
      name,
      in: 'query',
      required: js.required?.includes(name) ?? false,
      description: (description as string | undefined) ?? QUERY_PARAMETERS[name] ?? name,
      schema: rest,
    };
  });
}

const firstLine = (text: string) => text.split('\n')[0]!;

/** The document as YAML (the committed openapi.yaml and GET /api/openapi.yaml). */
/** YAML, with the yaml package loaded on first use: a server that is never asked for it never loads it. */
export async function documentYaml(doc: object): Promise<string> {
  const { stringify } = await import('yaml');
  return stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
}
