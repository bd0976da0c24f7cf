/** Users: the statements on the `users` table that the workspace, team and account services run. */
import type { User } from '../generated/prisma/client.js';
import type { Db } from './sql.js';

/** A registered user by (normalised) email; null when there is none. */
export const findUserByEmail = (db: Db, email: string): Promise<Pick<User, 'id' | 'email'> | null> =>
  db.user.findUnique({ where: { email }, select: { id: true, email: true } });

/** What the account's settings and export show of the user. */
export type AccountRow = Pick<User, 'id' | 'name' | 'email' | 'createdAt' | 'autoStore' | 'retentionPeriod'>;

const accountSelect = { id: true, name: true, email: true, createdAt: true, autoStore: true, retentionPeriod: true } as const;

export const findAccount = (db: Db, id: string): Promise<AccountRow | null> => db.user.findUnique({ where: { id }, select: accountSelect });

export const updateRetention = (db: Db, id: string, data: Partial<Pick<User, 'autoStore' | 'retentionPeriod'>>): Promise<AccountRow> =>
  db.user.update({ where: { id }, data, select: accountSelect });

/** Deletes the user; the database cascades memberships, integrations, refresh tokens and invitations. */
export const deleteUser = (db: Db, id: string) => db.user.delete({ where: { id } });
