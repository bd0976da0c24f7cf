-- Running totals per workspace for the stats of the polled workspace list (D2): reading
-- them costs one row per workspace instead of counting memories and conversations.
-- Statement-level triggers keep them exact whatever writes the rows (API, imports, cascades).

-- CreateTable
CREATE TABLE "workspace_counters" (
    "workspace_id" VARCHAR(50) NOT NULL,
    "memories" INTEGER NOT NULL DEFAULT 0,
    "ready_memories" INTEGER NOT NULL DEFAULT 0,
    "conversations" INTEGER NOT NULL DEFAULT 0,
    "active_conversations" INTEGER NOT NULL DEFAULT 0,
    "last_message_at" TIMESTAMPTZ(6),

    CONSTRAINT "workspace_counters_pkey" PRIMARY KEY ("workspace_id")
);

-- AddForeignKey
ALTER TABLE "workspace_counters" ADD CONSTRAINT "workspace_counters_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Backfill existing workspaces
INSERT INTO "workspace_counters" ("workspace_id", "memories", "ready_memories", "conversations", "active_conversations", "last_message_at")
SELECT w."id",
       (SELECT count(*) FROM "memories" m WHERE m."workspace_id" = w."id"),
       (SELECT count(*) FROM "memories" m WHERE m."workspace_id" = w."id" AND m."embedding_status" = 'ready'),
       (SELECT count(*) FROM "conversations" c WHERE c."workspace_id" = w."id"),
       (SELECT count(*) FROM "conversations" c WHERE c."workspace_id" = w."id" AND c."status" = 'active'),
       (SELECT max(x."timestamp") FROM "chat_messages" x JOIN "conversations" c ON c."id" = x."conversation_id" WHERE c."workspace_id" = w."id")
FROM "workspaces" w;

-- A new workspace starts at zero.
CREATE FUNCTION "workspace_counters_on_workspace"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "workspace_counters" ("workspace_id") SELECT "id" FROM new_rows ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

CREATE TRIGGER "workspace_counters_workspace_insert" AFTER INSERT ON "workspaces"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "workspace_counters_on_workspace"();

-- Memories: totals and the embedded ("ready") totals. An update counts as remove old + add new.
CREATE FUNCTION "workspace_counters_on_memories"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE "workspace_counters" k
       SET "memories" = k."memories" - d.n, "ready_memories" = k."ready_memories" - d.ready
      FROM (SELECT "workspace_id", count(*)::int AS n, (count(*) FILTER (WHERE "embedding_status" = 'ready'))::int AS ready
              FROM old_rows GROUP BY "workspace_id") d
     WHERE k."workspace_id" = d."workspace_id";
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE "workspace_counters" k
       SET "memories" = k."memories" + d.n, "ready_memories" = k."ready_memories" + d.ready
      FROM (SELECT "workspace_id", count(*)::int AS n, (count(*) FILTER (WHERE "embedding_status" = 'ready'))::int AS ready
              FROM new_rows GROUP BY "workspace_id") d
     WHERE k."workspace_id" = d."workspace_id";
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "workspace_counters_memories_insert" AFTER INSERT ON "memories"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "workspace_counters_on_memories"();
CREATE TRIGGER "workspace_counters_memories_update" AFTER UPDATE ON "memories"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "workspace_counters_on_memories"();
CREATE TRIGGER "workspace_counters_memories_delete" AFTER DELETE ON "memories"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "workspace_counters_on_memories"();

-- Conversations: totals and the active ones.
CREATE FUNCTION "workspace_counters_on_conversations"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE "workspace_counters" k
       SET "conversations" = k."conversations" - d.n, "active_conversations" = k."active_conversations" - d.active
      FROM (SELECT "workspace_id", count(*)::int AS n, (count(*) FILTER (WHERE "status" = 'active'))::int AS active
              FROM old_rows GROUP BY "workspace_id") d
     WHERE k."workspace_id" = d."workspace_id";
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE "workspace_counters" k
       SET "conversations" = k."conversations" + d.n, "active_conversations" = k."active_conversations" + d.active
      FROM (SELECT "workspace_id", count(*)::int AS n, (count(*) FILTER (WHERE "status" = 'active'))::int AS active
              FROM new_rows GROUP BY "workspace_id") d
     WHERE k."workspace_id" = d."workspace_id";
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "workspace_counters_conversations_insert" AFTER INSERT ON "conversations"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "workspace_counters_on_conversations"();
CREATE TRIGGER "workspace_counters_conversations_update" AFTER UPDATE ON "conversations"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "workspace_counters_on_conversations"();
CREATE TRIGGER "workspace_counters_conversations_delete" AFTER DELETE ON "conversations"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "workspace_counters_on_conversations"();

-- Messages: the newest message time (lastActivity); deleting messages never moves it back.
CREATE FUNCTION "workspace_counters_on_messages"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "workspace_counters" k
     SET "last_message_at" = GREATEST(k."last_message_at", d.last)
    FROM (SELECT c."workspace_id", max(n."timestamp") AS last
            FROM new_rows n JOIN "conversations" c ON c."id" = n."conversation_id" GROUP BY c."workspace_id") d
   WHERE k."workspace_id" = d."workspace_id";
  RETURN NULL;
END $$;

CREATE TRIGGER "workspace_counters_messages_insert" AFTER INSERT ON "chat_messages"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "workspace_counters_on_messages"();
