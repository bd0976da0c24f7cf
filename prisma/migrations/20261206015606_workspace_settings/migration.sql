-- AlterTable
ALTER TABLE "workspaces" ADD COLUMN     "auto_extract" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "default_model_id" VARCHAR(50),
ADD COLUMN     "retrieval_top_k" INTEGER NOT NULL DEFAULT 5,
ADD COLUMN     "system_prompt" TEXT;
