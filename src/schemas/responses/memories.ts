import { z } from 'zod';
import { jsonObject, timestamp } from './common.js';

const memoryExample = {
  id: 'memory-1a2b3c4d5e6f', workspaceId: 'workspace-0a1b2c3d4e5f', title: 'Launch plan', content: 'We launch on Friday after the final review.',
  snippet: 'We launch on Friday after the final review.', tags: ['launch', 'plan'], embedding: null, embeddingStatus: 'pending',
  metadata: { source: 'notes' }, version: 1, createdAt: '2025-12-08T06:43:35.123Z', updatedAt: '2025-12-08T06:43:35.123Z',
};

export const Memory = z
  .object({
    id: z.string(),
    workspaceId: z.string(),
    title: z.string(),
    content: z.string(),
    snippet: z.string(),
    tags: z.array(z.string()),
    embedding: z.array(z.number()).nullable().meta({ description: "The first chunk's stored vector (4 decimals), null until embedded" }),
    embeddingStatus: z.enum(['pending', 'ready', 'failed']),
    metadata: jsonObject(),
    version: z.int(),
    createdAt: timestamp(),
    updatedAt: timestamp(),
  })
  .meta({ id: 'Memory', examples: [memoryExample] });

export const MemoryList = z.object({ memories: z.array(Memory), total: z.int() }).meta({ id: 'MemoryList' });

const MATCH = z.enum(['semantic', 'lexical', 'both']).nullable().meta({ description: 'Which retrieval found it; null in recent mode' });
const MODE = z.enum(['hybrid', 'lexical', 'recent']).meta({ description: 'hybrid: semantic + full-text; lexical: the model is not ready; recent: blank query' });

export const SearchHit = z
  .object({
    id: z.string(), title: z.string(), content: z.string(), snippet: z.string(), score: z.number().min(0).max(1), tags: z.array(z.string()),
    workspace_id: z.string(), created_at: timestamp(), matchType: MATCH,
  })
  .meta({
    id: 'SearchHit',
    examples: [{
      id: 'memory-1a2b3c4d5e6f', title: 'Launch plan', content: 'We launch on Friday after the final review.', snippet: 'We launch on Friday after the final review.',
      score: 0.92, tags: ['launch'], workspace_id: 'workspace-0a1b2c3d4e5f', created_at: '2025-12-08T06:43:35.123Z', matchType: 'both',
    }],
  });

export const SearchResults = z.object({ mode: MODE, results: z.array(SearchHit), total: z.int() }).meta({ id: 'SearchResults' });

export const UrlImport = z
  .object({
    memory: Memory,
    source_type: z.enum(['chatgpt', 'notion', 'google_docs', 'github', 'webpage']),
    was_summarized: z.boolean(),
  })
  .meta({ id: 'UrlImport', examples: [{ memory: { ...memoryExample, title: '[Imported] Launch plan' }, source_type: 'webpage', was_summarized: false }] });

export const FileImport = z
  .object({ memory: Memory, file_type: z.string(), original_filename: z.string(), was_summarized: z.boolean() })
  .meta({ id: 'FileImport', examples: [{ memory: { ...memoryExample, title: 'launch-plan' }, file_type: 'md', original_filename: 'launch-plan.md', was_summarized: false }] });

/** MCP (legacy routes and tools): snake_case, as the original. */
export const SavedMemory = z
  .object({ id: z.string(), title: z.string(), status: z.literal('saved'), workspace_id: z.string(), created_at: timestamp() })
  .meta({ id: 'SavedMemory', examples: [{ id: 'memory-1a2b3c4d5e6f', title: 'Launch plan', status: 'saved', workspace_id: 'workspace-0a1b2c3d4e5f', created_at: '2025-12-08T06:43:35.123Z' }] });

export const SavedMemories = z.object({ created: z.int(), memories: z.array(SavedMemory) }).meta({ id: 'SavedMemories' });

export const ToolSearchResults = z
  .object({
    results: z.array(z.object({
      id: z.string(), title: z.string(), snippet: z.string(), tags: z.array(z.string()), score: z.number().min(0).max(1), matchType: MATCH,
      workspace_id: z.string(), created_at: timestamp(),
    })),
    total: z.int(),
    mode: MODE,
  })
  .meta({ id: 'ToolSearchResults' });

export const InjectedContext = z
  .object({
    injected_context: z.string().meta({ description: '"- <title>: <content>" lines, or "No memories found."' }),
    memory_count: z.int(),
    memories: z.array(z.object({ id: z.string(), title: z.string(), content: z.string(), tags: z.array(z.string()), created_at: timestamp() })),
    workspace_id: z.string(),
  })
  .meta({ id: 'InjectedContext' });

export const ToolMemoryPage = z
  .object({
    memories: z.array(z.object({ id: z.string(), title: z.string(), snippet: z.string(), tags: z.array(z.string()), created_at: timestamp() })),
    total: z.int(), limit: z.int(), offset: z.int(), workspace_id: z.string(),
  })
  .meta({ id: 'ToolMemoryPage' });

export const IndexRebuild = z
  .object({ workspace_id: z.string(), queued: z.int(), message: z.string() })
  .meta({ id: 'IndexRebuild', examples: [{ workspace_id: 'workspace-0a1b2c3d4e5f', queued: 12, message: 'Re-embedding queued' }] });

export const IndexStatus = z
  .object({
    workspace_id: z.string(),
    model: z.string().nullable(),
    model_status: z.enum(['loading', 'ready', 'unavailable']),
    reason: z.string().nullable(),
    total: z.int(), ready: z.int(), pending: z.int(), failed: z.int(), chunks: z.int(),
  })
  .meta({ id: 'IndexStatus' });

/** Where a memory version comes from: an extraction from a conversation, or a user's edit. */
export const Provenance = z
  .union([
    z.object({
      source: z.literal('conversation'),
      conversationId: z.string(),
      messageIds: z.array(z.string()).meta({ description: 'The messages that stated the fact' }),
      model: z.string().meta({ description: 'The conversation model that extracted or consolidated it' }),
    }),
    z.object({ source: z.literal('user'), userId: z.string().nullable().meta({ description: 'The user who made the change; null when unknown' }) }),
  ])
  .meta({ id: 'Provenance' });

export const MemoryVersion = z
  .object({
    version: z.int().meta({ description: "The memory's version after this change" }),
    action: z.enum(['ADD', 'UPDATE', 'DELETE', 'EDIT', 'RESTORE']).meta({
      description: 'ADD: created; UPDATE: merged or rewritten from a conversation; DELETE: deleted by consolidation (the state kept here); EDIT: edited by a user; RESTORE: an earlier version restored',
    }),
    title: z.string(),
    content: z.string(),
    tags: z.array(z.string()),
    metadata: jsonObject(),
    provenance: Provenance,
    createdAt: timestamp(),
  })
  .meta({ id: 'MemoryVersion' });

export const MemoryHistory = z
  .object({
    memoryId: z.string(),
    deleted: z.boolean().meta({ description: 'The memory was deleted by consolidation; a version can restore it' }),
    versions: z.array(MemoryVersion).meta({ description: 'Newest first' }),
  })
  .meta({
    id: 'MemoryHistory',
    examples: [{
      memoryId: 'memory-1a2b3c4d5e6f', deleted: false,
      versions: [
        {
          version: 2, action: 'UPDATE', title: 'Launch day', content: 'We launch on Monday.', tags: ['extracted'], metadata: {},
          provenance: { source: 'conversation', conversationId: 'conv-0a1b2c3d4e5f', messageIds: ['msg-0a1b2c3d4e5f'], model: 'gpt-4o' }, createdAt: '2025-12-09T06:43:35.123Z',
        },
        {
          version: 1, action: 'ADD', title: 'Launch day', content: 'We launch on Friday.', tags: [], metadata: {},
          provenance: { source: 'user', userId: '5f0c8a9e-2c1d-4b7a-9e3f-1a2b3c4d5e6f' }, createdAt: '2025-12-08T06:43:35.123Z',
        },
      ],
    }],
  });
