import type { Presented } from '../schemas/responses/common.js';
import type { User } from '../schemas/responses/auth.js';

/** User as the frontend reads it: {id, name, email, avatar, createdAt}. */
export function presentUser(user: { id: string; name: string; email: string; avatar: string | null; createdAt: Date }): Presented<typeof User> {
  return { id: user.id, name: user.name, email: user.email, avatar: user.avatar, createdAt: user.createdAt.toISOString() };
}
