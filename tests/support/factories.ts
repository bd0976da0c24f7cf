import { randomBytes } from 'node:crypto';
import type { TestApp } from './app.js';

export interface Session {
  token: string;
  refresh: string;
  user: { id: string; name: string; email: string; avatar: null; createdAt: string };
  auth: { Authorization: string };
}

export const uniqueEmail = (label = 'user') => `${label}-${randomBytes(5).toString('hex')}@example.test`;

export async function registerUser(app: TestApp, overrides: Partial<{ name: string; email: string; password: string }> = {}): Promise<Session & { password: string }> {
  const password = overrides.password ?? 'correct horse battery';
  const res = await app.http
    .post('/api/auth/register')
    .send({ name: overrides.name ?? 'Test User', email: overrides.email ?? uniqueEmail(), password });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  const { token, refresh, user } = res.body.data;
  return { token, refresh, user, password, auth: { Authorization: `Bearer ${token}` } };
}
