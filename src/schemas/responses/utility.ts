import { z } from 'zod';
import { ErrorEnvelope } from './common.js';

const embeddings = z
  .object({
    status: z.enum(['loading', 'ready', 'unavailable', 'error']),
    model: z.string().nullable().optional(),
    dimensions: z.int().nullable().optional(),
    reason: z.string().nullable().optional(),
    backlog: z.int().optional().meta({ description: 'Memories waiting to be embedded' }),
  })
  .meta({ description: 'The embedding model; "error" with a reason when its report failed' });

const eventLoop = z
  .object({
    status: z.enum(['ok', 'error']),
    windowSeconds: z.number().optional(),
    delayMs: z.object({ mean: z.number(), p50: z.number(), p99: z.number(), max: z.number() }).optional(),
    utilization: z.number().min(0).max(1).optional(),
    reason: z.string().optional(),
  })
  .meta({ description: "This process's event-loop delay (how late timers fire) and busy share over the last complete 10-second window" });

const vectorIndex = z
  .object({
    status: z.enum(['ok', 'error']),
    backend: z.enum(['memory', 'pgvector']).optional().meta({ description: 'memory: exact scan of cached matrices; pgvector: HNSW index in the database' }),
    cachedMb: z.number().optional().meta({ description: 'Megabytes of vectors cached in this process' }),
    cachedWorkspaces: z.int().optional(),
    budgetMb: z.int().nullable().optional().meta({ description: 'VECTOR_CACHE_MB (memory backend)' }),
    reason: z.string().optional(),
  })
  .meta({ description: 'The vector index in use for semantic search' });

const memory = z
  .object({
    status: z.enum(['ok', 'error']),
    rssMb: z.number().optional().meta({ description: "This process's resident memory" }),
    heapMb: z.number().optional().meta({ description: 'JavaScript heap in use' }),
    vectorsMb: z.number().optional().meta({ description: 'Vectors cached by the vector index' }),
    buffersMb: z.number().optional().meta({ description: 'Buffers and WebAssembly memories outside the heap (vectors, an embedded database)' }),
    embeddingModel: z.enum(['loaded', 'not loaded']).optional().meta({ description: 'Whether the embedding worker holds a model' }),
    database: z.enum(['in process', 'separate server']).optional().meta({ description: 'PGlite lives in this process (its memory counts in rssMb); PostgreSQL does not' }),
    reason: z.string().optional(),
  })
  .meta({ description: "Where this process's memory goes" });

export const Health = z
  .object({
    status: z.enum(['healthy', 'unhealthy']),
    timestamp: z.string().meta({ format: 'date-time' }),
    version: z.string(),
    uptimeSeconds: z.int(),
    database: z.string().meta({ description: '"connected" or "error: …"' }),
    databaseLatencyMs: z.number().nullable(),
    storage: z.enum(['pglite', 'postgres']),
    embeddings,
    eventLoop,
    vectorIndex: vectorIndex.optional(),
    memory: memory.optional(),
  })
  // Further components report under the name they registered with.
  .catchall(z.looseObject({ status: z.string() }).meta({ description: 'A registered component: its status, and what else it reports' }))
  .meta({
    id: 'Health',
    examples: [{
      status: 'healthy', timestamp: '2025-12-08T06:43:35.123Z', version: '1.0.0', uptimeSeconds: 3600, database: 'connected', databaseLatencyMs: 1.2, storage: 'pglite',
      embeddings: { status: 'ready', model: 'Xenova/all-MiniLM-L6-v2', dimensions: 384, reason: null, backlog: 0 },
      eventLoop: { status: 'ok', windowSeconds: 10, delayMs: { mean: 0.4, p50: 0.2, p99: 3.1, max: 5.6 }, utilization: 0.05 },
      vectorIndex: { status: 'ok', backend: 'memory', cachedMb: 19.6, cachedWorkspaces: 1, budgetMb: 256 },
      memory: { status: 'ok', rssMb: 231.4, heapMb: 48.2, vectorsMb: 19.6, buffersMb: 40.3, embeddingModel: 'loaded', database: 'in process' },
    }],
  });

/** The OpenAPI document itself (GET /api/openapi.json). */
export const OpenApiDocument = z
  .looseObject({ openapi: z.string(), info: z.looseObject({ title: z.string(), version: z.string() }), paths: z.record(z.string(), z.unknown()) })
  .meta({ id: 'OpenApiDocument', description: 'An OpenAPI 3.1 document' });

const id = z.union([z.string(), z.int()]);

const JsonRpcRequest = z
  .object({
    jsonrpc: z.literal('2.0'),
    id: id.optional().meta({ description: 'Absent on notifications' }),
    method: z.string(),
    params: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'JsonRpcRequest', examples: [{ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_memories', arguments: { query: 'launch plan' } } }] });

/** POST /mcp: one JSON-RPC message or a batch. */
export const McpRequest = z.union([JsonRpcRequest, z.array(JsonRpcRequest).min(1)]).meta({ id: 'McpRequest' });

const JsonRpcResponse = z
  .union([
    z.object({ jsonrpc: z.literal('2.0'), id, result: z.record(z.string(), z.unknown()) }),
    z.object({
      jsonrpc: z.literal('2.0'),
      id: id.nullable(),
      error: z.object({ code: z.int(), message: z.string(), data: z.unknown().optional() }),
    }),
  ])
  .meta({ id: 'JsonRpcResponse', examples: [{ jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'search_memories' }] } }] });

export const McpResponse = z.union([JsonRpcResponse, z.array(JsonRpcResponse)]).meta({ id: 'McpResponse' });

/** A refusal of /mcp: the error envelope (from the HTTP layer) or a JSON-RPC error (from the MCP transport). */
export const McpFailure = z.union([ErrorEnvelope, McpResponse]);
