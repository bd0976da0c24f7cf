-- CreateTable
CREATE TABLE "memory_versions" (
    "id" VARCHAR(50) NOT NULL,
    "memory_id" VARCHAR(50) NOT NULL,
    "workspace_id" VARCHAR(50) NOT NULL,
    "version" INTEGER NOT NULL,
    "action" VARCHAR(10) NOT NULL,
    "title" VARCHAR(255) NOT NULL,
    "content" TEXT NOT NULL,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "provenance" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "memory_versions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "conversation_extractions" (
    "conversation_id" VARCHAR(50) NOT NULL,
    "workspace_id" VARCHAR(50) NOT NULL,
    "requested_by_id" UUID,
    "status" VARCHAR(20) NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "claimed_at" TIMESTAMPTZ(6),
    "through_message_id" VARCHAR(50),
    "error" TEXT,
    "result" JSONB NOT NULL DEFAULT '{}',
    "requested_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(6),

    CONSTRAINT "conversation_extractions_pkey" PRIMARY KEY ("conversation_id")
);

-- CreateIndex
CREATE INDEX "memory_versions_workspace_id_created_at_idx" ON "memory_versions"("workspace_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "memory_versions_memory_id_version_key" ON "memory_versions"("memory_id", "version");

-- CreateIndex
CREATE INDEX "conversation_extractions_status_requested_at_idx" ON "conversation_extractions"("status", "requested_at");

-- CreateIndex
CREATE INDEX "conversation_extractions_workspace_id_idx" ON "conversation_extractions"("workspace_id");

-- AddForeignKey
ALTER TABLE "memory_versions" ADD CONSTRAINT "memory_versions_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "conversation_extractions" ADD CONSTRAINT "conversation_extractions_conversation_id_fkey" FOREIGN KEY ("conversation_id") REFERENCES "conversations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "conversation_extractions" ADD CONSTRAINT "conversation_extractions_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "conversation_extractions" ADD CONSTRAINT "conversation_extractions_requested_by_id_fkey" FOREIGN KEY ("requested_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Every memory written before versions existed starts its history with its current state.
INSERT INTO "memory_versions" ("id", "memory_id", "workspace_id", "version", "action", "title", "content", "tags", "metadata", "provenance", "created_at")
SELECT 'memver-' || left(md5(m."id"), 12), m."id", m."workspace_id", m."version",
       CASE WHEN m."version" = 1 THEN 'ADD' ELSE 'EDIT' END, m."title", m."content", m."tags", m."metadata",
       jsonb_build_object('source', 'user', 'userId', m."author_id"), m."updated_at"
  FROM "memories" m;
