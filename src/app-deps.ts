import type { Logger } from 'pino';
import type { Config } from './config/env.js';
import type { Database, PrismaClient } from './db/client.js';
import type { Authenticator } from './http/authenticate.js';
import type { RateLimitStoreFactory } from './http/middleware/rate-limit.js';
import type { Credential } from './services/auth/authenticate.js';
import type { AuthUser } from './services/auth/tokens.js';
import type { EmbeddingService } from './services/embeddings/index.js';
import type { ExtractionQueue } from './services/extraction/queue.js';
import type { HealthRegistry } from './services/health.js';
import type { DocumentParser } from './services/imports/parser-pool.js';
import type { VectorIndex } from './services/memories/vector-index.js';
import type { BackgroundWork } from './lib/background.js';

/** Everything a route or service needs from the running server, passed explicitly. */
export interface AppDeps {
  config: Config;
  db: Database;
  prisma: PrismaClient;
  logger: Logger;
  health: HealthRegistry;
  /** Verifies access tokens and loads their caller: the route pipeline's first step. */
  authenticator: Authenticator<Credential, AuthUser>;
  rateLimitStore: RateLimitStoreFactory;
  /** Work started outside a request (embedding, scheduled jobs); awaited on shutdown. */
  background: BackgroundWork;
  /** Local embedding model and its backlog sweeper (started by the server, or by a test). */
  embeddings: EmbeddingService;
  /** The durable queue of fact extractions from conversations (started by the server, or by a test). */
  extractions: ExtractionQueue;
  /** Nearest-neighbour search over memory chunk vectors. */
  vectorIndex: VectorIndex;
  /** Child processes that parse imported documents, off the request loop (closed on shutdown). */
  documentParser: DocumentParser;
}

// The route framework hands these to every handler as `deps` and `user` (see Application in http/route.ts).
declare module './http/route.js' {
  interface Application {
    deps: AppDeps;
    user: AuthUser;
  }
}
