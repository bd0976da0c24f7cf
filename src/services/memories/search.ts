/**
 * Hybrid memory search (D5): cosine similarity over chunk vectors fused with PostgreSQL
 * full-text rank by reciprocal-rank fusion. Scoped to the workspaces the user may read.
 * Without a model (or when it fails) the search is lexical and says so; a blank query
 * returns the most recently updated memories.
 */
import type { AppDeps } from '../../app-deps.js';
import { memoryColumns, type MemoryRow } from '../../data/memories.js';
import { readableWorkspaceIds } from '../../policies/index.js';

export type SearchMode = 'hybrid' | 'lexical' | 'recent';
export type MatchType = 'semantic' | 'lexical' | 'both';

export interface SearchInput {
  userId: string;
  /** Restrict to these workspaces (ignored where the user may not read). Default: all readable. */
  workspaceIds?: string[];
  query: string;
  topK: number;
  /** Any-of tag filter. */
  tags?: string[];
}

export interface SearchHit {
  memory: MemoryRow;
  /** In [0, 1]; 0 for recent-mode results. */
  score: number;
  matchType: MatchType | null;
}

export interface SearchResult {
  mode: SearchMode;
  results: SearchHit[];
  /** Milliseconds spent embedding the query and retrieving (reported separately by the benchmark). */
  timings: { embedMs: number; retrieveMs: number };
}

/** Reciprocal-rank-fusion constant (the usual 60). */
const RRF_K = 60;

export async function searchMemories(deps: AppDeps, input: SearchInput): Promise<SearchResult> {
  const readable = await readableWorkspaceIds(deps.db, input.userId);
  const workspaceIds = input.workspaceIds ? input.workspaceIds.filter((id) => readable.includes(id)) : readable;
  const tags = input.tags?.length ? input.tags : undefined;
  const query = input.query.trim();
  if (!query) return recentMemories(deps, workspaceIds, input.topK, tags);

  const embedStart = performance.now();
  const vector = await deps.embeddings.embedder.embedQuery(query);
  const embedMs = performance.now() - embedStart;
  const result = await retrieve(deps, { workspaceIds, query, vector, topK: input.topK, tags });
  return { ...result, timings: { embedMs, retrieveMs: result.retrieveMs } };
}

export interface RetrieveInput {
  workspaceIds: string[];
  query: string;
  /** The query's embedding, or null for lexical-only retrieval. */
  vector: Float32Array | null;
  topK: number;
  tags?: string[];
}

/** Retrieval with an already embedded query (the benchmark times this part alone). */
export async function retrieve(deps: AppDeps, input: RetrieveInput): Promise<{ mode: SearchMode; results: SearchHit[]; retrieveMs: number }> {
  const start = performance.now();
  const candidates = Math.max(input.topK * 4, 50);
  const model = deps.embeddings.embedder.modelId;
  // The full-text query goes out first, so PostgreSQL ranks while this process scans vectors.
  const lexical = lexicalRanking(deps, input.workspaceIds, input.query, candidates, input.tags);
  const semantic = input.vector && model ? semanticRanking(deps, input.workspaceIds, input.vector, model, candidates, input.tags) : Promise.resolve(null);
  const [semanticIds, lexicalIds] = await Promise.all([semantic, lexical]);
  const fused = fuse(semanticIds, lexicalIds).slice(0, input.topK);
  const rows = fused.length ? await deps.db.query<MemoryRow>(`SELECT ${memoryColumns.sql} FROM memories WHERE id = ANY($1::varchar[])`, [fused.map((f) => f.id)]) : [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  const results = fused.flatMap((f) => {
    const memory = byId.get(f.id);
    return memory ? [{ memory, score: f.score, matchType: f.matchType }] : [];
  });
  return { mode: semanticIds ? 'hybrid' : 'lexical', results, retrieveMs: performance.now() - start };
}

async function recentMemories(deps: AppDeps, workspaceIds: string[], topK: number, tags?: string[]): Promise<SearchResult> {
  const rows = await deps.prisma.memory.findMany({
    where: { workspaceId: { in: workspaceIds }, ...(tags && { tags: { hasSome: tags } }) },
    orderBy: { updatedAt: 'desc' },
    take: topK,
  });
  return { mode: 'recent', results: rows.map((memory) => ({ memory, score: 0, matchType: null })), timings: { embedMs: 0, retrieveMs: 0 } };
}

async function semanticRanking(deps: AppDeps, workspaceIds: string[], vector: Float32Array, model: string, limit: number, tags?: string[]): Promise<string[]> {
  let allowed: Set<string> | undefined;
  if (tags) {
    const rows = await deps.db.query<{ id: string }>('SELECT id FROM memories WHERE workspace_id = ANY($1::varchar[]) AND tags && $2::text[]', [workspaceIds, tags]);
    allowed = new Set(rows.map((r) => r.id));
  }
  const hits = await deps.vectorIndex.search({ workspaceIds, vector, model, limit, minScore: deps.config.searchMinSimilarity, allowed });
  return hits.map((h) => h.memoryId);
}

/**
 * Full-text ranking with OR semantics (any query term may match; more matches rank higher).
 * websearch_to_tsquery never fails on user input; its `&` operators become `|`.
 * `search_vector` is a stored generated column with a GIN index (see its migration).
 */
async function lexicalRanking(deps: AppDeps, workspaceIds: string[], query: string, limit: number, tags?: string[]): Promise<string[]> {
  if (workspaceIds.length === 0) return [];
  // Plain parameterised SQL on the pool: this runs on every search (no Prisma round of query building).
  const rows = await deps.db.query<{ id: string }>(
    `SELECT m.id
     FROM memories m,
          (SELECT replace(websearch_to_tsquery('english', $1)::text, '&', '|')::tsquery AS q) t
     WHERE m.workspace_id = ANY($2::varchar[])
       AND m.search_vector @@ t.q
       ${tags ? 'AND m.tags && $4::text[]' : ''}
     ORDER BY ts_rank(m.search_vector, t.q) DESC, m.updated_at DESC
     LIMIT $3`,
    tags ? [query, workspaceIds, limit, tags] : [query, workspaceIds, limit],
  );
  return rows.map((r) => r.id);
}

/**
 * Reciprocal-rank fusion, scaled to [0, 1]: a memory ranked first by every ranking in use
 * scores 1.
 */
export function fuse(semantic: string[] | null, lexical: string[]): { id: string; score: number; matchType: MatchType }[] {
  const lists = semantic ? [semantic, lexical] : [lexical];
  const best = lists.length / (RRF_K + 1);
  const scores = new Map<string, { score: number; semantic: boolean; lexical: boolean }>();
  for (const list of lists) {
    list.forEach((id, rank) => {
      const entry = scores.get(id) ?? { score: 0, semantic: false, lexical: false };
      entry.score += 1 / (RRF_K + rank + 1);
      if (list === semantic) entry.semantic = true;
      else entry.lexical = true;
      scores.set(id, entry);
    });
  }
  return [...scores.entries()]
    .map(([id, e]) => ({
      id,
      score: Math.round((e.score / best) * 10_000) / 10_000,
      matchType: (e.semantic && e.lexical ? 'both' : e.semantic ? 'semantic' : 'lexical') as MatchType,
    }))
    .sort((a, b) => b.score - a.score);
}
