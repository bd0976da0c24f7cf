-- AlterTable
ALTER TABLE "integrations" ALTER COLUMN "api_key" DROP NOT NULL;
