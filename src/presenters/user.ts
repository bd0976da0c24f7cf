import type { User } from '../generated/prisma/client.js';

/** User as the frontend reads it: {id, name, email, avatar, createdAt}. */
export function presentUser(user: Pick<User, 'id' | 'name' | 'email' | 'avatar' | 'createdAt'>) {
  return { id: user.id, name: user.name, email: user.email, avatar: user.avatar, createdAt: user.createdAt.toISOString() };
}
