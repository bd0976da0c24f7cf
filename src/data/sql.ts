/**
 * What every data-access module (`src/data/<resource>.ts`) builds on.
 *
 * - `Db` is the handle a statement runs on: the Prisma client, or the transaction a
 *   multi-step write opened. Services receive it explicitly and pass it down.
 * - `columns()` declares the projection a raw statement selects, as fields of a Prisma
 *   model. The row's TypeScript type is derived from the generated model type (never
 *   written by hand), and `tests/unit/data-rows.test.ts` checks every declared column
 *   against `prisma/schema.prisma`, so a renamed column fails a test instead of a request.
 *
 * Raw SQL is kept only where Prisma cannot express the statement or where a measured hot
 * path needs it; each such statement carries a one-line comment saying which.
 */
import type {
  Activity,
  ApiKey,
  ChatMessage,
  Conversation,
  ConversationMemory,
  Integration,
  Memory,
  MemoryChunk,
  Prisma,
  PrismaClient,
  RefreshToken,
  RevokedAccessToken,
  RevokedTokenFamily,
  SystemLoadSnapshot,
  TeamMember,
  User,
  Workspace,
  WorkspaceCounters,
  WorkspaceIndexStamp,
  WorkspaceInvitation,
} from '../generated/prisma/client.js';

/** The client, or an open transaction. */
export type Db = PrismaClient | Prisma.TransactionClient;

/** The schema's models by name, as `columns()` accepts them. */
export interface Models {
  Activity: Activity;
  ApiKey: ApiKey;
  ChatMessage: ChatMessage;
  Conversation: Conversation;
  ConversationMemory: ConversationMemory;
  Integration: Integration;
  Memory: Memory;
  MemoryChunk: MemoryChunk;
  RefreshToken: RefreshToken;
  RevokedAccessToken: RevokedAccessToken;
  RevokedTokenFamily: RevokedTokenFamily;
  SystemLoadSnapshot: SystemLoadSnapshot;
  TeamMember: TeamMember;
  User: User;
  Workspace: Workspace;
  WorkspaceCounters: WorkspaceCounters;
  WorkspaceIndexStamp: WorkspaceIndexStamp;
  WorkspaceInvitation: WorkspaceInvitation;
}

export interface Projection<M extends keyof Models = keyof Models, F extends keyof Models[M] = keyof Models[M]> {
  model: M;
  /** field name → database column, as declared */
  fields: Readonly<Record<F, string>>;
  /** `alias."column" AS "field", …`, ready to splice into a SELECT list */
  sql: string;
  /** Phantom: the row type. Use `RowOf<typeof projection>`. */
  readonly row?: Pick<Models[M], F>;
}

/** The row type a projection selects. */
export type RowOf<P> = P extends Projection<infer M, infer F> ? Pick<Models[M], F> : never;

const declared: Projection[] = [];

/** Every projection declared so far (the schema test walks them). */
export function declaredProjections(): readonly Projection[] {
  return declared;
}

/**
 * Declares the columns a raw statement selects from `model` (under table alias `alias`,
 * or unqualified when null): each key is a model field, each value its database column.
 */
export function columns<M extends keyof Models, F extends keyof Models[M] & string>(model: M, alias: string | null, fields: Record<F, string>): Projection<M, F> {
  const prefix = alias ? `${alias}.` : '';
  const sql = Object.entries<string>(fields)
    .map(([field, column]) => (field === column ? `${prefix}"${column}"` : `${prefix}"${column}" AS "${field}"`))
    .join(', ');
  const projection: Projection<M, F> = { model, fields, sql };
  declared.push(projection as unknown as Projection);
  return projection;
}

/** Keyset paging on the primary key: `id > after` walks the index with no rescans. */
export const afterId = (after: string | null) => (after === null ? {} : { id: { gt: after } });
