/**
 * Sessions: every statement of signing in and of authenticating a request beyond the user's
 * own row (data/users.ts): the session cut-off, refresh tokens (one family per session), the two
 * deny-lists the authentication statement probes: revoked access tokens (tokens from before
 * sessions were tracked) and revoked sessions (token families), and the lookup of an API key.
 */
import type { Database } from '../db/client.js';
import { type ApiKey, Prisma, type PrismaClient, type RefreshToken, type User } from '../generated/prisma/client.js';
import type { UserRef, WorkspaceLimit } from './membership.js';
import { columns, type Db, type RowOf } from './sql.js';

/** What a refresh needs of the user: whether the account is active and its session cut-off. */
export const refreshStanding = (db: Db, id: string): Promise<Pick<User, 'id' | 'isActive' | 'sessionsValidAfter'> | null> =>
  db.user.findUnique({ where: { id }, select: { id: true, isActive: true, sessionsValidAfter: true } });

export const saveRefreshToken = (db: Db, token: Pick<RefreshToken, 'id' | 'userId' | 'familyId' | 'expiresAt'>) => db.refreshToken.create({ data: token });

export const findRefreshToken = (db: Db, id: string): Promise<RefreshToken | null> => db.refreshToken.findUnique({ where: { id } });

/** Marks a refresh token used, if it is still usable: true when this call did (a token is used once). */
export async function claimRefreshToken(db: Db, id: string, now: Date): Promise<boolean> {
  const claimed = await db.refreshToken.updateMany({
    where: { id, usedAt: null, revokedAt: null, expiresAt: { gt: now } },
    data: { usedAt: now },
  });
  return claimed.count === 1;
}

/** Ends one session: revokes its refresh tokens and puts the family on the deny-list until `until`, atomically. */
export async function revokeSession(prisma: PrismaClient, familyId: string, now: Date, until: Date): Promise<void> {
  await prisma.$transaction([
    prisma.refreshToken.updateMany({ where: { familyId, revokedAt: null }, data: { revokedAt: now } }),
    prisma.revokedTokenFamily.createMany({ data: [{ familyId, expiresAt: until }], skipDuplicates: true }),
  ]);
}

/**
 * Ends every session of the user: moves the cut-off to `now` (never backwards, whatever the
 * order concurrent calls land in) and revokes every refresh token. Returns the cut-off in force.
 */
export async function revokeAllSessions(db: Db, userId: string, now: Date): Promise<Date> {
  // Raw: Prisma cannot express GREATEST in an update.
  const rows = await db.$queryRaw<Pick<User, 'sessionsValidAfter'>[]>`
    UPDATE users SET sessions_valid_after = GREATEST(sessions_valid_after, ${now}::timestamptz)
     WHERE id = ${userId}::uuid RETURNING sessions_valid_after AS "sessionsValidAfter"`;
  await db.refreshToken.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: now } });
  return rows[0]?.sessionsValidAfter ?? now;
}

/** Puts one access token on the deny-list (a token from before sessions were tracked). */
export const revokeAccessToken = (db: Db, jti: string, expiresAt: Date) =>
  db.revokedAccessToken.upsert({ where: { jti }, create: { jti, expiresAt }, update: {} });

/** Deletes deny-list rows and refresh tokens that expired before `now`. */
export async function deleteExpiredTokens(db: Db, now: Date): Promise<void> {
  await db.revokedAccessToken.deleteMany({ where: { expiresAt: { lt: now } } });
  await db.revokedTokenFamily.deleteMany({ where: { expiresAt: { lt: now } } });
  await db.refreshToken.deleteMany({ where: { expiresAt: { lt: now } } });
}

/**
 * What rides along with one authentication statement: the route's subject and its preload,
 * each a fragment yielding one JSON value (either may be absent). `name` names the combined
 * prepared statement, so each combination must always produce the same text.
 */
export interface Riders {
  name: string;
  subject: Prisma.Sql | null;
  preload: Prisma.Sql | null;
}

/**
 * A read that rides along with the authentication statement (RouteSpec.preload): on the
 * hottest routes (the polled workspace list, chat) it saves a database round trip. `sql`
 * yields one value, built from the verified caller's id, the path params and the validated
 * query; `check` is a cheap run-time check that the value has the declared type `T` (the
 * handler gets it typed); `name` names the combined prepared statement (its text must not vary).
 */
export interface Preload<T, K extends string = string, Q = unknown> {
  name: string;
  sql: (input: RiderCaller & { params: Readonly<Record<K, string>>; query: Q }) => Prisma.Sql;
  check: (value: unknown) => value is T;
}

/**
 * The caller as the riders see it: the user (its id, or for an API key the column of the
 * key's row that holds it, since the key's user is known only inside the statement) and the
 * workspaces the caller is limited to (an API key's).
 */
export interface RiderCaller {
  userId: UserRef;
  limit?: WorkspaceLimit;
}

/** The caller's columns the authentication statement selects. */
export const callerColumns = columns('User', 'u', {
  id: 'id',
  email: 'email',
  name: 'name',
  avatar: 'avatar',
  isActive: 'is_active',
  autoStore: 'auto_store',
  retentionPeriod: 'retention_period',
  createdAt: 'created_at',
});

export type CallerRow = RowOf<typeof callerColumns>;

export interface AuthenticationRow extends CallerRow {
  /** The token is on a deny-list, or was issued before the user's cut-off. */
  revoked: boolean;
  /** The riders' values (absent without them). */
  subject?: unknown;
  preloaded?: unknown;
}

/** What the authentication statement needs of a verified access token. */
export interface TokenIdentity {
  userId: string;
  jti: string;
  /** The token's session (refresh-token family); null on tokens from before sessions were tracked. */
  family: string | null;
  /** Issued at, seconds. */
  issuedAt: number;
}

/**
 * The authentication statement: the caller of a verified access token, whether the token is
 * revoked (a primary-key probe of each deny-list, and the user's cut-off against the token's
 * issue time: tokens carry whole seconds), and the riders' values, in one round trip.
 * Undefined when the user does not exist.
 * Raw and prepared, on the plain query path: it runs on every authenticated request (the
 * measured hot path; Prisma's per-query overhead would dominate it).
 */
export async function authenticationRow(db: Pick<Database, 'query'>, token: TokenIdentity, riders?: Riders): Promise<AuthenticationRow | undefined> {
  const statement = Prisma.sql`
    SELECT ${Prisma.raw(callerColumns.sql)},
           EXISTS (SELECT 1 FROM revoked_access_tokens r WHERE r.jti = ${token.jti})
             OR EXISTS (SELECT 1 FROM revoked_token_families f WHERE f.family_id = ${token.family})
             OR coalesce(u.sessions_valid_after > to_timestamp(${token.issuedAt}::double precision), false) AS revoked
           ${riders?.subject ? Prisma.sql`, (${riders.subject}) AS subject` : Prisma.empty}
           ${riders?.preload ? Prisma.sql`, (${riders.preload}) AS preloaded` : Prisma.empty}
      FROM users u WHERE u.id = ${token.userId}::uuid`;
  const rows = await db.query<AuthenticationRow>(statement.text, statement.values, riders ? `auth-user+${riders.name}` : 'auth-user');
  return rows[0];
}

/** The alias of the key's row in its authentication statement; riders reach the key's user through it. */
const KEY = 'authenticating_key';

/** The caller of an API key, inside its authentication statement. */
export const keyRiderCaller: RiderCaller = { userId: Prisma.raw(`${KEY}."user_id"`), limit: Prisma.raw(`${KEY}."workspace_ids"`) };

const keyColumns = columns('ApiKey', KEY, { keyHash: 'key_hash', scopes: 'scopes', workspaceIds: 'workspace_ids' });

export interface KeyAuthenticationRow extends CallerRow, RowOf<typeof keyColumns> {
  /** The key's id (the caller's is `id`). */
  keyId: ApiKey['id'];
  revoked: boolean;
  expired: boolean;
  /** A use was recorded less than a minute ago (last_used_at needs no update). */
  usedRecently: boolean;
  subject?: unknown;
  preloaded?: unknown;
}

/**
 * The authentication statement of an API key: the key found by its hash, with its user,
 * whether it is revoked or expired (by the database clock), and the riders' values, which
 * reach the key's user through `keyRiderCaller`: one round trip, like a session's token.
 * Undefined when no key has this hash (or its user was deleted: keys go with their user).
 * Raw and prepared, on the plain query path, for the same reason as `authenticationRow`.
 */
export async function keyAuthenticationRow(db: Pick<Database, 'query'>, keyHash: string, riders?: Riders): Promise<KeyAuthenticationRow | undefined> {
  const statement = Prisma.sql`
    SELECT ${Prisma.raw(callerColumns.sql)}, ${Prisma.raw(KEY)}."id" AS "keyId", ${Prisma.raw(keyColumns.sql)},
           ${Prisma.raw(KEY)}."revoked_at" IS NOT NULL AS revoked,
           coalesce(${Prisma.raw(KEY)}."expires_at" <= now(), false) AS expired,
           coalesce(${Prisma.raw(KEY)}."last_used_at" > now() - interval '1 minute', false) AS "usedRecently"
           ${riders?.subject ? Prisma.sql`, (${riders.subject}) AS subject` : Prisma.empty}
           ${riders?.preload ? Prisma.sql`, (${riders.preload}) AS preloaded` : Prisma.empty}
      FROM api_keys ${Prisma.raw(KEY)} JOIN users u ON u.id = ${Prisma.raw(KEY)}."user_id"
     WHERE ${Prisma.raw(KEY)}."key_hash" = ${keyHash}`;
  const rows = await db.query<KeyAuthenticationRow>(statement.text, statement.values, riders ? `auth-key+${riders.name}` : 'auth-key');
  return rows[0];
}
