import type { User } from '../generated/prisma/client.js';
import type { Presented } from '../schemas/responses/common.js';
import type { User as UserSchema } from '../schemas/responses/auth.js';

/** User as the frontend reads it: {id, name, email, avatar, createdAt}. */
export function presentUser(user: Pick<User, 'id' | 'name' | 'email' | 'avatar' | 'createdAt'>): Presented<typeof UserSchema> {
  return { id: user.id, name: user.name, email: user.email, avatar: user.avatar, createdAt: user.createdAt.toISOString() };
}
