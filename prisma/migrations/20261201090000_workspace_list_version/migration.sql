-- A per-workspace version of what the workspace list shows (W1), so every server instance
-- can serve the polled list from its cache and tell, with one indexed read, which entries
-- are stale. Triggers bump it inside the writing transaction, whatever code writes the rows
-- (API, imports, retention, cascades, another instance): the workspace row, its members and
-- their names/emails, memories, conversations, messages and activities.

-- AlterTable
ALTER TABLE "workspace_counters" ADD COLUMN     "list_version" BIGINT NOT NULL DEFAULT 0;

-- The counter triggers already update the row on memory, conversation and message writes:
-- they bump the version in the same statement.
CREATE OR REPLACE FUNCTION "workspace_counters_on_memories"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE "workspace_counters" k
       SET "memories" = k."memories" - d.n, "ready_memories" = k."ready_memories" - d.ready, "list_version" = k."list_version" + 1
      FROM (SELECT "workspace_id", count(*)::int AS n, (count(*) FILTER (WHERE "embedding_status" = 'ready'))::int AS ready
              FROM old_rows GROUP BY "workspace_id") d
     WHERE k."workspace_id" = d."workspace_id";
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE "workspace_counters" k
       SET "memories" = k."memories" + d.n, "ready_memories" = k."ready_memories" + d.ready, "list_version" = k."list_version" + 1
      FROM (SELECT "workspace_id", count(*)::int AS n, (count(*) FILTER (WHERE "embedding_status" = 'ready'))::int AS ready
              FROM new_rows GROUP BY "workspace_id") d
     WHERE k."workspace_id" = d."workspace_id";
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION "workspace_counters_on_conversations"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE "workspace_counters" k
       SET "conversations" = k."conversations" - d.n, "active_conversations" = k."active_conversations" - d.active, "list_version" = k."list_version" + 1
      FROM (SELECT "workspace_id", count(*)::int AS n, (count(*) FILTER (WHERE "status" = 'active'))::int AS active
              FROM old_rows GROUP BY "workspace_id") d
     WHERE k."workspace_id" = d."workspace_id";
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE "workspace_counters" k
       SET "conversations" = k."conversations" + d.n, "active_conversations" = k."active_conversations" + d.active, "list_version" = k."list_version" + 1
      FROM (SELECT "workspace_id", count(*)::int AS n, (count(*) FILTER (WHERE "status" = 'active'))::int AS active
              FROM new_rows GROUP BY "workspace_id") d
     WHERE k."workspace_id" = d."workspace_id";
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION "workspace_counters_on_messages"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "workspace_counters" k
     SET "last_message_at" = GREATEST(k."last_message_at", d.last), "list_version" = k."list_version" + 1
    FROM (SELECT c."workspace_id", max(n."timestamp") AS last
            FROM new_rows n JOIN "conversations" c ON c."id" = n."conversation_id" GROUP BY c."workspace_id") d
   WHERE k."workspace_id" = d."workspace_id";
  RETURN NULL;
END $$;

-- Tables with a workspace_id column whose rows the list shows or counts.
CREATE FUNCTION "workspace_list_touch"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE "workspace_counters" k SET "list_version" = k."list_version" + 1
     WHERE k."workspace_id" IN (SELECT DISTINCT "workspace_id" FROM old_rows);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE "workspace_counters" k SET "list_version" = k."list_version" + 1
     WHERE k."workspace_id" IN (SELECT DISTINCT "workspace_id" FROM new_rows);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "workspace_list_team_members_insert" AFTER INSERT ON "team_members"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "workspace_list_touch"();
CREATE TRIGGER "workspace_list_team_members_update" AFTER UPDATE ON "team_members"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "workspace_list_touch"();
CREATE TRIGGER "workspace_list_team_members_delete" AFTER DELETE ON "team_members"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "workspace_list_touch"();

CREATE TRIGGER "workspace_list_activities_insert" AFTER INSERT ON "activities"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "workspace_list_touch"();
CREATE TRIGGER "workspace_list_activities_update" AFTER UPDATE ON "activities"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "workspace_list_touch"();
CREATE TRIGGER "workspace_list_activities_delete" AFTER DELETE ON "activities"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "workspace_list_touch"();

-- Message inserts bump through the counter trigger; edits and deletes change the recent count.
CREATE TRIGGER "workspace_list_messages_update" AFTER UPDATE ON "chat_messages"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "workspace_list_touch"();
CREATE TRIGGER "workspace_list_messages_delete" AFTER DELETE ON "chat_messages"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "workspace_list_touch"();

-- The workspace row itself (name, description, owner, updatedAt). A deleted workspace
-- leaves the list with its counter row (cascade).
CREATE FUNCTION "workspace_list_on_workspaces"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "workspace_counters" k SET "list_version" = k."list_version" + 1
   WHERE k."workspace_id" IN (SELECT "id" FROM new_rows);
  RETURN NULL;
END $$;

CREATE TRIGGER "workspace_list_workspaces_update" AFTER UPDATE ON "workspaces"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "workspace_list_on_workspaces"();

-- Members show their user's name and email.
CREATE FUNCTION "workspace_list_on_users"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "workspace_counters" k SET "list_version" = k."list_version" + 1
   WHERE k."workspace_id" IN (
     SELECT t."workspace_id" FROM new_rows n JOIN old_rows o ON o."id" = n."id" JOIN "team_members" t ON t."user_id" = n."id"
      WHERE o."name" IS DISTINCT FROM n."name" OR o."email" IS DISTINCT FROM n."email");
  RETURN NULL;
END $$;

CREATE TRIGGER "workspace_list_users_update" AFTER UPDATE ON "users"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "workspace_list_on_users"();
