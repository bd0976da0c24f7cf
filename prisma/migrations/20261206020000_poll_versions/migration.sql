-- Versions of the polled answers besides the workspace list (contract §1.13): the memory
-- list (M1), the conversation list (C1), the team (T1) per workspace, and one conversation
-- with its messages (C3). Triggers bump them inside the writing transaction, whatever code
-- writes the rows (API, imports, embedding, retention, cascades, another instance), so an
-- instance answers a matching If-None-Match from the version alone, without building the body.

-- AlterTable
ALTER TABLE "workspace_counters" ADD COLUMN     "conversation_list_version" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "memory_list_version" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "team_version" BIGINT NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "conversation_versions" (
    "conversation_id" VARCHAR(50) NOT NULL,
    "version" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "conversation_versions_pkey" PRIMARY KEY ("conversation_id")
);

-- AddForeignKey
ALTER TABLE "conversation_versions" ADD CONSTRAINT "conversation_versions_conversation_id_fkey" FOREIGN KEY ("conversation_id") REFERENCES "conversations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A conversation without a row is at version 0 (data/poll-versions.ts); its first change writes the row.

-- M1 shows memories and the first chunk vector of each (its embedding).
CREATE FUNCTION "poll_memory_list_touch"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE "workspace_counters" k SET "memory_list_version" = k."memory_list_version" + 1
     WHERE k."workspace_id" IN (SELECT "workspace_id" FROM old_rows);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE "workspace_counters" k SET "memory_list_version" = k."memory_list_version" + 1
     WHERE k."workspace_id" IN (SELECT "workspace_id" FROM new_rows);
  END IF;
  RETURN NULL;
END $$;

-- C1 shows conversations and their message counts.
CREATE FUNCTION "poll_conversation_list_touch"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE "workspace_counters" k SET "conversation_list_version" = k."conversation_list_version" + 1
     WHERE k."workspace_id" IN (SELECT "workspace_id" FROM old_rows);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE "workspace_counters" k SET "conversation_list_version" = k."conversation_list_version" + 1
     WHERE k."workspace_id" IN (SELECT "workspace_id" FROM new_rows);
  END IF;
  RETURN NULL;
END $$;

-- T1 shows the members.
CREATE FUNCTION "poll_team_touch"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE "workspace_counters" k SET "team_version" = k."team_version" + 1
     WHERE k."workspace_id" IN (SELECT "workspace_id" FROM old_rows);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE "workspace_counters" k SET "team_version" = k."team_version" + 1
     WHERE k."workspace_id" IN (SELECT "workspace_id" FROM new_rows);
  END IF;
  RETURN NULL;
END $$;

-- C3 shows the conversation's messages and injected memories. No version row is written for a
-- conversation being deleted (its cascade deletes them): only existing conversations are touched.
CREATE FUNCTION "poll_conversation_touch"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    INSERT INTO "conversation_versions" AS v ("conversation_id", "version")
    SELECT c."id", 1 FROM "conversations" c WHERE c."id" IN (SELECT "conversation_id" FROM old_rows)
    ON CONFLICT ("conversation_id") DO UPDATE SET "version" = v."version" + 1;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO "conversation_versions" AS v ("conversation_id", "version")
    SELECT c."id", 1 FROM "conversations" c WHERE c."id" IN (SELECT "conversation_id" FROM new_rows)
    ON CONFLICT ("conversation_id") DO UPDATE SET "version" = v."version" + 1;
  END IF;
  RETURN NULL;
END $$;

-- C3 also shows the conversation row itself.
CREATE FUNCTION "poll_conversation_row_touch"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "conversation_versions" AS v ("conversation_id", "version")
  SELECT "id", 1 FROM new_rows
  ON CONFLICT ("conversation_id") DO UPDATE SET "version" = v."version" + 1;
  RETURN NULL;
END $$;

-- Members show their user's name and email (T1).
CREATE FUNCTION "poll_team_on_users"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "workspace_counters" k SET "team_version" = k."team_version" + 1
   WHERE k."workspace_id" IN (
     SELECT t."workspace_id" FROM new_rows n JOIN old_rows o ON o."id" = n."id" JOIN "team_members" t ON t."user_id" = n."id"
      WHERE o."name" IS DISTINCT FROM n."name" OR o."email" IS DISTINCT FROM n."email");
  RETURN NULL;
END $$;

CREATE TRIGGER "poll_memory_list_memories_insert" AFTER INSERT ON "memories"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_memory_list_touch"();
CREATE TRIGGER "poll_memory_list_memories_update" AFTER UPDATE ON "memories"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_memory_list_touch"();
CREATE TRIGGER "poll_memory_list_memories_delete" AFTER DELETE ON "memories"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_memory_list_touch"();
CREATE TRIGGER "poll_memory_list_chunks_insert" AFTER INSERT ON "memory_chunks"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_memory_list_touch"();
CREATE TRIGGER "poll_memory_list_chunks_update" AFTER UPDATE ON "memory_chunks"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_memory_list_touch"();
CREATE TRIGGER "poll_memory_list_chunks_delete" AFTER DELETE ON "memory_chunks"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_memory_list_touch"();
CREATE TRIGGER "poll_conversation_list_conversations_insert" AFTER INSERT ON "conversations"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_conversation_list_touch"();
CREATE TRIGGER "poll_conversation_list_conversations_update" AFTER UPDATE ON "conversations"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_conversation_list_touch"();
CREATE TRIGGER "poll_conversation_list_conversations_delete" AFTER DELETE ON "conversations"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_conversation_list_touch"();
-- Message counts change on insert and delete only.
CREATE TRIGGER "poll_conversation_list_messages_insert" AFTER INSERT ON "chat_messages"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_conversation_list_touch"();
CREATE TRIGGER "poll_conversation_list_messages_delete" AFTER DELETE ON "chat_messages"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_conversation_list_touch"();
CREATE TRIGGER "poll_team_members_insert" AFTER INSERT ON "team_members"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_team_touch"();
CREATE TRIGGER "poll_team_members_update" AFTER UPDATE ON "team_members"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_team_touch"();
CREATE TRIGGER "poll_team_members_delete" AFTER DELETE ON "team_members"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_team_touch"();
CREATE TRIGGER "poll_conversation_conversations_update" AFTER UPDATE ON "conversations"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_conversation_row_touch"();
CREATE TRIGGER "poll_conversation_messages_insert" AFTER INSERT ON "chat_messages"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_conversation_touch"();
CREATE TRIGGER "poll_conversation_messages_update" AFTER UPDATE ON "chat_messages"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_conversation_touch"();
CREATE TRIGGER "poll_conversation_messages_delete" AFTER DELETE ON "chat_messages"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_conversation_touch"();
CREATE TRIGGER "poll_conversation_injections_insert" AFTER INSERT ON "conversation_memories"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_conversation_touch"();
CREATE TRIGGER "poll_conversation_injections_update" AFTER UPDATE ON "conversation_memories"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_conversation_touch"();
CREATE TRIGGER "poll_conversation_injections_delete" AFTER DELETE ON "conversation_memories"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_conversation_touch"();
CREATE TRIGGER "poll_team_users_update" AFTER UPDATE ON "users"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_team_on_users"();
