/**
 * Memory search used by retrieval-augmented chat (D13): PostgreSQL full-text over title
 * and content, ranked by ts_rank, restricted to the given workspaces. The hybrid
 * (semantic + lexical) engine of the memory bank has the same signature.
 */
import type { AppDeps } from '../../app-deps.js';
import { Prisma } from '../../generated/prisma/client.js';

export interface SearchInput {
  userId: string;
  workspaceIds: string[];
  query: string;
  topK: number;
}

export interface SearchResult {
  id: string;
  workspaceId: string;
  title: string;
  content: string;
  snippet: string;
  tags: string[];
  score: number;
  createdAt: Date;
}

export async function searchMemories(deps: Pick<AppDeps, 'prisma'>, input: SearchInput): Promise<{ results: SearchResult[]; mode: 'lexical' }> {
  const query = input.query.trim();
  if (!query || input.workspaceIds.length === 0) return { results: [], mode: 'lexical' };
  // Any of the query's words may match (OR); ts_rank orders by how many and how often.
  const rows = await deps.prisma.$queryRaw<(Omit<SearchResult, 'score'> & { rank: number })[]>`
    WITH q AS (SELECT NULLIF(replace(plainto_tsquery('english', ${query})::text, '&', '|'), '')::tsquery AS query)
    SELECT id, workspace_id AS "workspaceId", title, content, snippet, tags, created_at AS "createdAt",
           ts_rank(to_tsvector('english', title || ' ' || content), q.query)::float8 AS rank
    FROM memories, q
    WHERE workspace_id IN (${Prisma.join(input.workspaceIds)})
      AND to_tsvector('english', title || ' ' || content) @@ q.query
    ORDER BY rank DESC, updated_at DESC
    LIMIT ${input.topK}`;
  // ts_rank is unbounded above; rank / (1 + rank) maps it into [0, 1) keeping the order.
  return { results: rows.map(({ rank, ...row }) => ({ ...row, score: rank / (1 + rank) })), mode: 'lexical' };
}
