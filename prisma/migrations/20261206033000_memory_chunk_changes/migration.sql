-- The change log of memory chunks, so a loaded vector index catches up on a write (from any
-- server instance) by re-reading the memories changed since the stamp version it holds,
-- instead of reloading the whole workspace. A statement-level trigger keeps it whatever
-- writes the chunks (embedding backlog, deletes, cascades, retention, imports).

-- CreateTable
CREATE TABLE "memory_chunk_changes" (
    "workspace_id" VARCHAR(50) NOT NULL,
    "memory_id" VARCHAR(50) NOT NULL,
    "version" BIGINT NOT NULL,

    CONSTRAINT "memory_chunk_changes_pkey" PRIMARY KEY ("workspace_id","memory_id")
);

-- CreateIndex
CREATE INDEX "memory_chunk_changes_workspace_id_version_idx" ON "memory_chunk_changes"("workspace_id", "version");

-- AddForeignKey
ALTER TABLE "memory_chunk_changes" ADD CONSTRAINT "memory_chunk_changes_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Each statement bumps the stamp of every workspace it touched once (in workspace order, so
-- concurrent writers lock stamps in the same order) and records that version against each
-- memory it touched. The stamp row lock orders the versions of one workspace by commit, so a
-- reader that sees stamp v also sees every change logged at v or below. Workspaces being
-- deleted in the same statement (cascades) are skipped: their log goes with them.
CREATE FUNCTION "memory_chunk_changes_log"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH bumped AS (
    INSERT INTO "workspace_index_stamps" AS s ("workspace_id", "version", "updated_at")
    SELECT t."workspace_id", 1, now()
      FROM (SELECT DISTINCT "workspace_id" FROM changed_rows) t
      JOIN "workspaces" w ON w."id" = t."workspace_id"
     ORDER BY t."workspace_id"
    ON CONFLICT ("workspace_id") DO UPDATE SET "version" = s."version" + 1, "updated_at" = now()
    RETURNING s."workspace_id", s."version"
  )
  INSERT INTO "memory_chunk_changes" ("workspace_id", "memory_id", "version")
  SELECT DISTINCT c."workspace_id", c."memory_id", b."version"
    FROM changed_rows c JOIN bumped b ON b."workspace_id" = c."workspace_id"
  ON CONFLICT ("workspace_id", "memory_id") DO UPDATE SET "version" = EXCLUDED."version";
  RETURN NULL;
END $$;

CREATE TRIGGER "memory_chunk_changes_insert" AFTER INSERT ON "memory_chunks"
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION "memory_chunk_changes_log"();
CREATE TRIGGER "memory_chunk_changes_update" AFTER UPDATE ON "memory_chunks"
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION "memory_chunk_changes_log"();
CREATE TRIGGER "memory_chunk_changes_delete" AFTER DELETE ON "memory_chunks"
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION "memory_chunk_changes_log"();
