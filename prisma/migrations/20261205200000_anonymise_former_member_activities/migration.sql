-- Account deletion now rewrites, in its transaction, the activity rows that named the person
-- in workspaces they had joined. This does the same for accounts deleted before.
UPDATE "activities" AS a
SET "description" = 'A former member was added as ' || COALESCE(a."metadata"->>'role', 'member'),
    "metadata" = a."metadata" || '{"userId": null, "teamMemberId": null}'::jsonb
WHERE a."type" = 'team_member_added'
  AND jsonb_typeof(a."metadata"->'userId') = 'string'
  AND NOT EXISTS (SELECT 1 FROM "users" u WHERE u."id"::text = a."metadata"->>'userId');
