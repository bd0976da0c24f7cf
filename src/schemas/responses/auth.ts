import { z } from 'zod';
import { timestamp } from './common.js';

const userExample = { id: '3f2b8c1e-5d4a-4b6f-9e21-7a0c9d8e1f23', name: 'Ada Lovelace', email: 'ada@example.com', avatar: null, createdAt: '2025-12-08T06:00:00.123Z' };

export const User = z
  .object({
    id: z.string().meta({ format: 'uuid' }),
    name: z.string(),
    email: z.string().meta({ format: 'email' }),
    avatar: z.string().nullable(),
    createdAt: timestamp(),
  })
  .meta({ id: 'User', description: 'A user as the frontend reads it', examples: [userExample] });

const tokenExample = 'eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.c2lnbmF0dXJl';

/** A fresh access token and refresh token (refresh rotates). */
export const Tokens = z
  .object({ token: z.string().meta({ description: 'Access token (Bearer)' }), refresh: z.string().meta({ description: 'Refresh token' }) })
  .meta({ id: 'Tokens', examples: [{ token: tokenExample, refresh: tokenExample }] });

/** Register and login. */
export const AuthSession = Tokens.extend({ user: User }).meta({
  id: 'AuthSession',
  description: 'Tokens of a new session and the signed-in user',
  examples: [{ token: tokenExample, refresh: tokenExample, user: userExample }],
});

export const PasswordChanged = Tokens.extend({ message: z.string() }).meta({
  id: 'PasswordChanged',
  examples: [{ message: 'Password changed', token: tokenExample, refresh: tokenExample }],
});
