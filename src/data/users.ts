/** Users: the statements on the `users` table — accounts, credentials and settings. */
import type { User } from '../generated/prisma/client.js';
import type { Db } from './sql.js';

/** A registered user by (normalised) email; null when there is none. */
export const findUserByEmail = (db: Db, email: string): Promise<User | null> => db.user.findUnique({ where: { email } });

export const emailTaken = async (db: Db, email: string): Promise<boolean> =>
  (await db.user.findUnique({ where: { email }, select: { id: true } })) !== null;

export const createUser = (db: Db, data: Pick<User, 'email' | 'name' | 'passwordHash'>): Promise<User> => db.user.create({ data });

export const findUser = (db: Db, id: string): Promise<User> => db.user.findUniqueOrThrow({ where: { id } });

export const updateUser = (db: Db, id: string, data: Partial<Pick<User, 'name' | 'email'>>): Promise<User> => db.user.update({ where: { id }, data });

export const passwordHashOf = async (db: Db, id: string): Promise<string | null> =>
  (await db.user.findUnique({ where: { id }, select: { passwordHash: true } }))?.passwordHash ?? null;

export const setPasswordHash = (db: Db, id: string, passwordHash: string) => db.user.update({ where: { id }, data: { passwordHash } });

/** What the account's settings and export show of the user. */
export type AccountRow = Pick<User, 'id' | 'name' | 'email' | 'createdAt' | 'autoStore' | 'retentionPeriod'>;

const accountSelect = { id: true, name: true, email: true, createdAt: true, autoStore: true, retentionPeriod: true } as const;

export const findAccount = (db: Db, id: string): Promise<AccountRow | null> => db.user.findUnique({ where: { id }, select: accountSelect });

export const updateRetention = (db: Db, id: string, data: Partial<Pick<User, 'autoStore' | 'retentionPeriod'>>): Promise<AccountRow> =>
  db.user.update({ where: { id }, data, select: accountSelect });

/** Deletes the user; the database cascades memberships, integrations, refresh tokens and invitations. */
export const deleteUser = (db: Db, id: string) => db.user.delete({ where: { id } });
