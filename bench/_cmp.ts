import { load, startServer } from './lib.js';
import { signToken } from '../src/services/auth/tokens.js';
import { loadConfig } from '../src/config/env.js';
const env = { JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123', ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'), DATABASE_URL: process.argv[2]! };
const server = await startServer(env, 18451);
const token = signToken(loadConfig({ ...env, NODE_ENV: 'test' }), 'access', process.argv[3]!).token;
const headers = { Authorization: `Bearer ${token}` };
for (const path of ['/api/health', '/api/auth/profile', '/api/workspaces', '/api/workspaces?limit=1']) {
  await load({ url: server.url + path, connections: 8, duration: 1, headers });
  const r = await load({ url: server.url + path, connections: 8, duration: 3, headers });
  console.log(path, r.rps, r.p50, r.non2xx);
}
await server.stop(); process.exit(0);
