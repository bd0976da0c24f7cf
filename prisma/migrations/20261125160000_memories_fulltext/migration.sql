-- Full-text search over memories (D5): an expression GIN index that Prisma's schema
-- language cannot express. Queries must use exactly this expression to use the index.
CREATE INDEX "memories_fulltext_idx" ON "memories" USING GIN (to_tsvector('english'::regconfig, "title" || ' ' || "content"));
