import { z } from 'zod';
import { API_KEY_SCOPES } from '../../policies/index.js';
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

const apiKeyExample = {
  id: 'key-3f2b8c1e5d4a',
  name: 'Claude Desktop',
  prefix: 'chm_Q2hpbWVy',
  scopes: ['memories:read', 'memories:write'],
  workspaceIds: null,
  createdAt: '2025-12-08T06:00:00.123Z',
  expiresAt: null,
  lastUsedAt: '2025-12-09T10:12:00.000Z',
};

/** A personal API key as lists show it: never the key itself. */
export const ApiKey = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().meta({ description: 'The start of the key (chm_ and 8 characters), to recognise it' }),
    scopes: z.array(z.enum(API_KEY_SCOPES)),
    workspaceIds: z.array(z.string()).nullable().meta({ description: 'The workspaces the key may act in; null: every workspace of its user' }),
    createdAt: timestamp(),
    expiresAt: timestamp().nullable(),
    lastUsedAt: timestamp().nullable().meta({ description: 'Updated at most once a minute' }),
  })
  .meta({ id: 'ApiKey', examples: [apiKeyExample] });

export const ApiKeyList = z.object({ keys: z.array(ApiKey) }).meta({ id: 'ApiKeyList', examples: [{ keys: [apiKeyExample] }] });

/** A new key: the only answer that ever carries the key in full. */
export const CreatedApiKey = ApiKey.omit({ lastUsedAt: true })
  .extend({ key: z.string().meta({ description: 'The key in full (chm_…): shown this once, store it now' }) })
  .meta({
    id: 'CreatedApiKey',
    examples: [{ ...apiKeyExample, lastUsedAt: undefined, key: 'chm_Q2hpbWVyYSBleGFtcGxlIGtleSwgbm90IGEgcmVhbCBvbmU' }],
  });
