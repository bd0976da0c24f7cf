/**
 * Builds the OpenAPI 3.1 document from the route specs and their zod schemas: the document
 * cannot describe a route that does not exist, nor miss one that does.
 */
import { z } from 'zod';
import type { RouteSpec } from '../http/route.js';

const envelope = (data: object, error: object = { type: 'null' }) => ({
  type: 'object',
  required: ['ok', 'data', 'error'],
  properties: { ok: { type: 'boolean' }, data, error },
});

const errorEnvelope = envelope(
  { type: 'null' },
  { oneOf: [{ type: 'string' }, { type: 'object', additionalProperties: true, description: 'DRF-style field errors {field: [messages]}' }] },
);

const ERROR_REF = { $ref: '#/components/schemas/ErrorEnvelope' };

const toOpenApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

function queryParameters(schema: z.ZodType | undefined) {
  if (!schema) return [];
  const js = jsonSchema(schema) as { properties?: Record<string, object>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({
    name,
    in: 'query',
    required: js.required?.includes(name) ?? false,
    schema: s,
  }));
}

export function buildOpenApiDocument(specs: RouteSpec[], info: { version: string; serverUrl?: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) {
    const path = toOpenApiPath(spec.path);
    const params = [...spec.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const responses: Record<string, unknown> = {
      [String(spec.status ?? 200)]: {
        description: 'Success',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Envelope' } } },
      },
    };
    for (const [status, description] of Object.entries(spec.responses ?? {})) {
      responses[status] = { description, content: { 'application/json': { schema: ERROR_REF } } };
    }
    if (spec.access === 'user') {
      responses['401'] ??= { description: 'Missing, invalid, expired or revoked token', content: { 'application/json': { schema: ERROR_REF } } };
    }
    if (spec.body || spec.query) {
      responses['400'] ??= { description: 'Invalid input', content: { 'application/json': { schema: ERROR_REF } } };
    }
    if (spec.body && !spec.requestMediaType) {
      responses['415'] ??= {
        description: 'A body that is neither application/json nor application/x-www-form-urlencoded',
        content: { 'application/json': { schema: ERROR_REF } },
      };
    }
    const operation: Record<string, unknown> = {
      operationId: spec.operationId,
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      tags: [spec.tag],
      parameters: [...params, ...queryParameters(spec.query)],
      responses,
    };
    if (spec.access === 'user') operation.security = [{ bearerAuth: [] }];
    else operation.security = [];
    if (spec.body) {
      const schema = jsonSchema(spec.body) as { properties?: Record<string, unknown> };
      // Multipart routes receive the file through the upload middleware, not the zod schema.
      if (spec.requestMediaType === 'multipart/form-data') schema.properties = { file: { type: 'string', format: 'binary' }, ...schema.properties };
      operation.requestBody = {
        required: false,
        content: { [spec.requestMediaType ?? 'application/json']: { schema } },
      };
    }
    const item = (paths[path] ??= {});
    // Paths are relative to the /api server; root-mounted operations name their own server.
    if (spec.root) item.servers = [{ url: (info.serverUrl ?? 'http://127.0.0.1:8000/api').replace(/\/api$/, '') }];
    item[spec.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Chimera API',
      version: info.version,
      description:
        'Backend of Chimera Protocol, a multi-LLM AI workspace. Every JSON response is an envelope {ok, data, error}; errors are a string or DRF-style field errors.',
    },
    servers: [{ url: info.serverUrl ?? 'http://127.0.0.1:8000/api' }],
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http', scheme: 'bearer', bearerFormat: 'JWT',
          description: 'A 401 carries RFC 6750 detail in WWW-Authenticate: Bearer realm="api" alone when no token was sent; error="invalid_token" with error_description "The access token expired" (refresh it), "The access token is invalid" or "The access token was revoked" (sign in again); error="invalid_request" for a malformed Authorization header.',
        },
      },
      schemas: { Envelope: envelope({ description: 'Payload' }), ErrorEnvelope: errorEnvelope },
    },
    paths,
  };
}
