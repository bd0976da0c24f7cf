/** Activities: every statement on the `activities` table (a workspace's feed, §5.3). */
import type { Activity, Prisma } from '../generated/prisma/client.js';
import { newId } from '../lib/ids.js';
import type { Db } from './sql.js';

export const insertActivity = (db: Db, activity: Pick<Activity, 'workspaceId' | 'type' | 'description'> & { metadata: Prisma.InputJsonValue }) =>
  db.activity.create({ data: { id: newId('activity'), ...activity } });

/** The newest activities of a workspace, newest first. */
export const recentActivities = (db: Db, workspaceId: string, page: { limit: number; offset?: number }): Promise<Activity[]> =>
  db.activity.findMany({ where: { workspaceId }, orderBy: [{ timestamp: 'desc' }, { id: 'desc' }], take: page.limit, skip: page.offset });

/** Activities of a type whose metadata names the user (`metadata.userId`). */
export const activitiesNaming = (db: Db, type: string, userId: string) =>
  db.activity.findMany({ where: { type, metadata: { path: ['userId'], equals: userId } }, select: { id: true, metadata: true } });

export const rewriteActivity = (db: Db, id: string, data: { description: string; metadata: Prisma.InputJsonValue }) =>
  db.activity.update({ where: { id }, data });
