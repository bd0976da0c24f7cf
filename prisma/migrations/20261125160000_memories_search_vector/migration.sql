-- Full-text search over memories (D5). A stored generated tsvector (so ranking never
-- re-parses content) with a GIN index; Prisma's schema language can express neither, so
-- the column is not in schema.prisma and the client never selects it. Only the first
-- 100,000 characters are indexed: a tsvector is capped at 1 MB, and semantic chunks cover the rest.
ALTER TABLE "memories" ADD COLUMN "search_vector" tsvector
  GENERATED ALWAYS AS (to_tsvector('english'::regconfig, left("title" || ' ' || "content", 100000))) STORED;
CREATE INDEX "memories_search_vector_idx" ON "memories" USING GIN ("search_vector");
