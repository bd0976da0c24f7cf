-- Each workspace's chunk count, kept by the same statement-level trigger as its stamp, so a
-- cold load of its vectors can lay out the whole matrix at once (read with the stamps, which
-- every search reads anyway) instead of growing it as the rows arrive.

-- AlterTable
ALTER TABLE "workspace_index_stamps" ADD COLUMN     "chunks" INTEGER NOT NULL DEFAULT 0;

-- The chunks already there.
UPDATE "workspace_index_stamps" s SET "chunks" = c."n"
  FROM (SELECT "workspace_id", count(*)::int AS "n" FROM "memory_chunks" GROUP BY "workspace_id") c
 WHERE c."workspace_id" = s."workspace_id";

-- As before, and each statement adds the rows it inserted to (or takes those it deleted from)
-- the count of each workspace it touched.
CREATE OR REPLACE FUNCTION "memory_chunk_changes_log"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH touched AS (
    SELECT "workspace_id", (CASE TG_OP WHEN 'INSERT' THEN count(*) WHEN 'DELETE' THEN -count(*) ELSE 0 END)::int AS "delta"
      FROM changed_rows GROUP BY "workspace_id"
  ), bumped AS (
    INSERT INTO "workspace_index_stamps" AS s ("workspace_id", "version", "chunks", "updated_at")
    SELECT t."workspace_id", 1, GREATEST(t."delta", 0), now()
      FROM touched t
      JOIN "workspaces" w ON w."id" = t."workspace_id"
     ORDER BY t."workspace_id"
    ON CONFLICT ("workspace_id") DO UPDATE SET "version" = s."version" + 1,
      "chunks" = GREATEST(s."chunks" + (SELECT t."delta" FROM touched t WHERE t."workspace_id" = s."workspace_id"), 0),
      "updated_at" = now()
    RETURNING s."workspace_id", s."version"
  )
  INSERT INTO "memory_chunk_changes" ("workspace_id", "memory_id", "version")
  SELECT DISTINCT c."workspace_id", c."memory_id", b."version"
    FROM changed_rows c JOIN bumped b ON b."workspace_id" = c."workspace_id"
  ON CONFLICT ("workspace_id", "memory_id") DO UPDATE SET "version" = EXCLUDED."version";
  RETURN NULL;
END $$;
