import { defineConfig } from 'prisma/config';

// Used by the Prisma CLI only (generate, and migrate deploy/status where the native
// engine is available). The server itself applies prisma/migrations with its own applier.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/chimera' },
});
