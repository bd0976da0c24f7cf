-- C3 (a conversation with its messages) also shows each conversation's extraction state, and
-- whether each memory a reply cites still exists (citations are resolved when read): both
-- move the conversation's poll version, in the writing transaction like the other triggers.

CREATE TRIGGER "poll_conversation_extractions_insert" AFTER INSERT ON "conversation_extractions"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_conversation_touch"();
CREATE TRIGGER "poll_conversation_extractions_update" AFTER UPDATE ON "conversation_extractions"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_conversation_touch"();
CREATE TRIGGER "poll_conversation_extractions_delete" AFTER DELETE ON "conversation_extractions"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_conversation_touch"();

-- A deleted memory is cited with memoryId null from then on: the conversations of its
-- workspace whose replies cite it move. One scan of those replies per deleting statement.
CREATE FUNCTION "poll_conversation_citations_touch"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "conversation_versions" AS v ("conversation_id", "version")
  SELECT DISTINCT m."conversation_id", 1
    FROM "chat_messages" m JOIN "conversations" c ON c."id" = m."conversation_id"
   WHERE c."workspace_id" IN (SELECT "workspace_id" FROM old_rows)
     AND m."metadata" ? 'citations'
     AND EXISTS (SELECT 1 FROM jsonb_array_elements(m."metadata" -> 'citations') e JOIN old_rows o ON o."id" = e ->> 'memoryId')
  ON CONFLICT ("conversation_id") DO UPDATE SET "version" = v."version" + 1;
  RETURN NULL;
END $$;

CREATE TRIGGER "poll_conversation_citations_memories_delete" AFTER DELETE ON "memories"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "poll_conversation_citations_touch"();
