-- Sessions end when they should: a per-user cut-off (logout everywhere, password change) and a
-- deny-list of refresh-token families (logout, reuse detection) that the authentication
-- statement reads by primary key, so every access token of a dead session is refused.
-- AlterTable
ALTER TABLE "users" ADD COLUMN     "sessions_valid_after" TIMESTAMPTZ(6);

-- CreateTable
CREATE TABLE "revoked_token_families" (
    "family_id" VARCHAR(64) NOT NULL,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "revoked_token_families_pkey" PRIMARY KEY ("family_id")
);

-- CreateIndex
CREATE INDEX "revoked_token_families_expires_at_idx" ON "revoked_token_families"("expires_at");
