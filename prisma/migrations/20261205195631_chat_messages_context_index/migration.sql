-- The reply context reads a conversation's last messages that a model may see again: failed
-- questions and replies cut short stay visible to users but are never replayed. This index
-- holds only those rows, so the window stays a short backward index scan however many turns
-- failed before it (the full index serves reads of whole conversations).
-- CreateIndex
CREATE INDEX "chat_messages_context_idx" ON "chat_messages"("conversation_id", "timestamp", "id") WHERE (NOT (metadata ?| ARRAY['failed', 'incomplete']));
