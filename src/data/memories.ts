/**
 * Memories: every statement that reads or writes the `memories` table.
 */
import { columns, type RowOf } from './sql.js';

/** The memory fields the API presents (§2.1), as raw statements select them. */
export const memoryColumns = columns('Memory', null, {
  id: 'id',
  workspaceId: 'workspace_id',
  title: 'title',
  content: 'content',
  snippet: 'snippet',
  tags: 'tags',
  metadata: 'metadata',
  version: 'version',
  embeddingStatus: 'embedding_status',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
});

export type MemoryRow = RowOf<typeof memoryColumns>;
