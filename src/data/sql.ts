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
import { Prisma } from '../generated/prisma/client.js';
import type {
  Activity,
  ApiKey,
  ChatMessage,
  Conversation,
  ConversationExtraction,
  ConversationMemory,
  Integration,
  Memory,
  MemoryChunk,
  MemoryVersion,
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
  ConversationExtraction: ConversationExtraction;
  ConversationMemory: ConversationMemory;
  Integration: Integration;
  Memory: Memory;
  MemoryChunk: MemoryChunk;
  MemoryVersion: MemoryVersion;
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

/** Where a page of `childrenOfList` ended: the position of its last row's parent in the list (from 1) and that row's id. */
export interface ChildCursor {
  parent: number;
  id: string;
}

/**
 * A page of the children of a list of parents, `take` rows in the list's order and then each
 * parent's own: one statement per page whatever the number of parents. `children(parentId,
 * past)` selects, as alias `x`, the first `take` children of one parent in `order`, those whose
 * key is above `past(lowest key, cursor's key)`: the lowest for a parent after the cursor's,
 * the cursor's own key for its parent. That keeps the condition an index range on the key.
 * Each parent's children come from an index probe (a LATERAL subquery), and the list's
 * positions (WITH ORDINALITY) keep the parents' order without sorting their children together.
 */
export function childrenOfList(
  parentIds: string[],
  after: ChildCursor | null,
  take: number,
  order: Prisma.Sql,
  children: (parentId: Prisma.Sql, past: (lowest: Prisma.Sql, cursor: Prisma.Sql) => Prisma.Sql) => Prisma.Sql,
): Prisma.Sql {
  const from = after?.parent ?? 0;
  const past = (lowest: Prisma.Sql, cursor: Prisma.Sql) => Prisma.sql`CASE WHEN p.ord > ${from} THEN ${lowest} ELSE ${cursor} END`;
  return Prisma.sql`
    SELECT x.* FROM unnest(${parentIds}::varchar[]) WITH ORDINALITY AS p(id, ord)
     CROSS JOIN LATERAL (${children(Prisma.sql`p.id`, past)}) x
     WHERE p.ord >= ${from}
     ORDER BY p.ord, ${order}
     LIMIT ${take}`;
}

/** `childrenOfList` for the rows of `table` under the parent column `parentColumn`, by id: the projection's columns (from alias `c`). */
export const childrenById = (table: string, parentColumn: string, projection: Projection, parentIds: string[], after: ChildCursor | null, take: number) =>
  childrenOfList(parentIds, after, take, Prisma.sql`x."id"`, (parentId, past) => Prisma.sql`
    SELECT ${Prisma.raw(projection.sql)} FROM ${Prisma.raw(`"${table}"`)} c
     WHERE c.${Prisma.raw(`"${parentColumn}"`)} = ${parentId} AND c."id" > ${past(Prisma.sql`''`, Prisma.sql`${after?.id ?? null}::varchar`)}
     ORDER BY c."id" LIMIT ${take}`);
