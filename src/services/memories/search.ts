/**
 * Hybrid memory search (D5): cosine similarity over chunk vectors fused with PostgreSQL
 * full-text rank by reciprocal-rank fusion. Scoped to the workspaces the user may read.
 * Without a model (or when it fails) the search is lexical and says so; a blank query
 * returns the most recently updated memories.
 *
 * Retrieval's statements run on the plain pool (`Database.query`), not through Prisma: it is
 * a measured hot path (bench `memories`: p95 ≤ 25 ms at 100,000 chunks). So the search
 * functions take the `Database` handle, which carries the pool and the Prisma client (for
 * the blank query's recent memories).
 */
import type { AppDeps } from '../../app-deps.js';
import { fullTextMatches, memoriesByIds, type MemoryRow, recentMemories, taggedMemoryIds } from '../../data/memories.js';
import type { Database } from '../../db/client.js';
import { readableWorkspaceIds } from '../../data/membership.js';
import type { Embedder } from '../embeddings/embedder.js';
import type { VectorIndex } from './vector-index.js';

export type SearchMode = 'hybrid' | 'lexical' | 'recent';
export type MatchType = 'semantic' | 'lexical' | 'both';

export interface SearchInput {
  userId: string;
  /** Restrict to these workspaces (ignored where the user may not read). Default: all readable. */
  workspaceIds?: readonly string[];
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

/** What a search needs besides the database. */
export interface SearchEngine {
  /** Embeds the query; its `modelId` names the chunk vectors the query is comparable with (null: lexical only). */
  embedder: Pick<Embedder, 'embedQuery' | 'modelId'>;
  vectorIndex: VectorIndex;
  /** Least cosine similarity of a semantic match (SEARCH_MIN_SIMILARITY). */
  minSimilarity: number;
}

/** The running server's search engine. */
export const searchEngineOf = (deps: Pick<AppDeps, 'embeddings' | 'vectorIndex' | 'config'>): SearchEngine => ({
  embedder: deps.embeddings.embedder,
  vectorIndex: deps.vectorIndex,
  minSimilarity: deps.config.searchMinSimilarity,
});

/** Reciprocal-rank-fusion constant (the usual 60). */
const RRF_K = 60;

export async function searchMemories(db: Database, engine: SearchEngine, input: SearchInput): Promise<SearchResult> {
  const readable = await readableWorkspaceIds(db, input.userId);
  const workspaceIds = input.workspaceIds ? input.workspaceIds.filter((id) => readable.includes(id)) : readable;
  const tags = input.tags?.length ? input.tags : undefined;
  const query = input.query.trim();
  if (!query) {
    const rows = await recentMemories(db.prisma, workspaceIds, input.topK, tags);
    return { mode: 'recent', results: rows.map((memory) => ({ memory, score: 0, matchType: null })), timings: { embedMs: 0, retrieveMs: 0 } };
  }

  const embedStart = performance.now();
  const vector = await engine.embedder.embedQuery(query);
  const embedMs = performance.now() - embedStart;
  const result = await retrieve(db, engine, { workspaceIds, query, vector, topK: input.topK, tags });
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
export async function retrieve(db: Pick<Database, 'query'>, engine: SearchEngine, input: RetrieveInput): Promise<{ mode: SearchMode; results: SearchHit[]; retrieveMs: number }> {
  const start = performance.now();
  const candidates = Math.max(input.topK * 4, 50);
  const model = engine.embedder.modelId;
  // The full-text query goes out first, so PostgreSQL ranks while this process scans vectors.
  const lexical = input.workspaceIds.length ? fullTextMatches(db, input.workspaceIds, input.query, candidates, input.tags) : Promise.resolve([]);
  const semantic = input.vector && model ? semanticRanking(db, engine, input.workspaceIds, input.vector, model, candidates, input.tags) : Promise.resolve(null);
  const [semanticIds, lexicalIds] = await Promise.all([semantic, lexical]);
  const fused = fuse(semanticIds, lexicalIds).slice(0, input.topK);
  const rows = fused.length ? await memoriesByIds(db, fused.map((f) => f.id)) : [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  const results = fused.flatMap((f) => {
    const memory = byId.get(f.id);
    return memory ? [{ memory, score: f.score, matchType: f.matchType }] : [];
  });
  return { mode: semanticIds ? 'hybrid' : 'lexical', results, retrieveMs: performance.now() - start };
}

async function semanticRanking(
  db: Pick<Database, 'query'>,
  engine: SearchEngine,
  workspaceIds: string[],
  vector: Float32Array,
  model: string,
  limit: number,
  tags?: string[],
): Promise<string[]> {
  const allowed = tags ? new Set(await taggedMemoryIds(db, workspaceIds, tags)) : undefined;
  const hits = await engine.vectorIndex.search({ workspaceIds, vector, model, limit, minScore: engine.minSimilarity, allowed });
  return hits.map((h) => h.memoryId);
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
