-- AlterTable
ALTER TABLE "chat_messages" ADD COLUMN     "workspace_id" VARCHAR(50);

-- CreateIndex
CREATE INDEX "chat_messages_workspace_id_timestamp_idx" ON "chat_messages"("workspace_id", "timestamp" DESC);

-- Existing messages take their conversation's workspace.
UPDATE "chat_messages" x SET "workspace_id" = c."workspace_id" FROM "conversations" c WHERE c."id" = x."conversation_id";

-- New messages get it on insert, whatever code writes them.
CREATE FUNCTION "chat_messages_set_workspace"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  SELECT c."workspace_id" INTO NEW."workspace_id" FROM "conversations" c WHERE c."id" = NEW."conversation_id";
  RETURN NEW;
END $$;

CREATE TRIGGER "chat_messages_set_workspace" BEFORE INSERT ON "chat_messages"
  FOR EACH ROW EXECUTE FUNCTION "chat_messages_set_workspace"();
