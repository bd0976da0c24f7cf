-- The reply context reads a conversation's last messages ORDER BY timestamp DESC, id DESC
-- LIMIT 9: with id in the index that is a short backward index scan; without it PostgreSQL
-- read and sorted every message of the conversation on every chat.
-- DropIndex
DROP INDEX "chat_messages_conversation_id_timestamp_idx";

-- CreateIndex
CREATE INDEX "chat_messages_conversation_id_timestamp_id_idx" ON "chat_messages"("conversation_id", "timestamp", "id");
