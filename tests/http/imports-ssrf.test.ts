/**
 * The SSRF table (D15), with no allowlist: every refused URL gets a 400 envelope and no
 * connection ever reaches the listener on 127.0.0.1 that the refused addresses point at.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStorage } from '../support/app.js';
import { registerUser } from '../support/factories.js';
import { type LocalServer, startLocalServer } from '../support/local-server.js';

let trap: LocalServer;
beforeAll(async () => {
  trap = await startLocalServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(`<p>${'leaked '.repeat(20)}</p>`));
});
afterAll(() => trap.close());

describeEachStorage('URL import SSRF table (no allowlist)', (ctx) => {
  it('refuses every internal, metadata, encoded or non-HTTP target without connecting', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const ws = await app.deps.prisma.workspace.findFirstOrThrow({ where: { ownerId: s.user.id } });
    const p = trap.port;
    const table = [
      `http://127.0.0.1:${p}/`,
      `http://localhost:${p}/`,
      `http://LOCALHOST.:${p}/`,
      `http://[::1]:${p}/`,
      `http://[::ffff:127.0.0.1]:${p}/`,
      `http://[::ffff:7f00:1]:${p}/`,
      `http://[0:0:0:0:0:ffff:7f00:1]:${p}/`,
      `http://[::127.0.0.1]:${p}/`,
      `http://[64:ff9b::7f00:1]:${p}/`,
      `http://0.0.0.0:${p}/`,
      `http://0:${p}/`,
      'http://169.254.169.254/latest/meta-data',
      'http://[fd00:ec2::254]/latest/meta-data',
      'http://100.100.100.200/latest/meta-data',
      'http://10.0.0.1/',
      'http://172.16.5.4/',
      'http://192.168.1.1/',
      'http://100.64.0.1/',
      'http://224.0.0.1/',
      'http://[fe80::1]/',
      `http://2130706433:${p}/`,
      `http://0x7f000001:${p}/`,
      `http://0177.0.0.1:${p}/`,
      `http://127.1:${p}/`,
      'file:///etc/passwd',
      'gopher://127.0.0.1:70/_GET',
      'ftp://127.0.0.1/',
      'data:text/html,<p>hi</p>',
      `http://user:pass@example.com:${p}/`,
      'not a url',
    ];
    for (const url of table) {
      const res = await app.http.post(`/api/workspaces/${ws.id}/memories/import-url`).set(s.auth).send({ url });
      expect(res.status, url).toBe(400);
      expect(res.body.ok, url).toBe(false);
      expect(res.body.data, url).toBeNull();
      expect(typeof res.body.error, url).toBe('string');
    }
    expect(trap.connections).toBe(0);
    expect(await app.deps.prisma.memory.count({ where: { workspaceId: ws.id } })).toBe(0);
  });
});

describeEachStorage(
  'URL import redirects (allowlisted first hop)',
  (ctx) => {
    it('refuses a redirect hop carrying credentials, as it refuses a first URL with them, without following it', async () => {
      const seen: { url: string; authorization: string | null }[] = [];
      const pages = await startLocalServer((req, res) => {
        seen.push({ url: req.url ?? '', authorization: req.headers.authorization ?? null });
        if (req.url === '/login-hop') return res.writeHead(302, { location: `http://admin:hunter2@127.0.0.1:${pages.port}/private` }).end();
        if (req.url === '/user-only-hop') return res.writeHead(307, { location: `http://admin@127.0.0.1:${pages.port}/private` }).end();
        res.writeHead(200, { 'content-type': 'text/html' }).end(`<p>${'private page '.repeat(20)}</p>`);
      });
      try {
        const app = ctx();
        const s = await registerUser(app);
        const ws = await app.deps.prisma.workspace.findFirstOrThrow({ where: { ownerId: s.user.id } });
        for (const path of ['/login-hop', '/user-only-hop']) {
          const res = await app.http.post(`/api/workspaces/${ws.id}/memories/import-url`).set(s.auth).send({ url: pages.url(path) });
          expect(res.status, path).toBe(400);
          expect(res.body, path).toEqual({ ok: false, data: null, error: 'URLs with credentials are not allowed' });
        }
        expect(seen.map((r) => r.url)).toEqual(['/login-hop', '/user-only-hop']);
        expect(seen.every((r) => r.authorization === null)).toBe(true);
        expect(await app.deps.prisma.memory.count({ where: { workspaceId: ws.id } })).toBe(0);
      } finally {
        await pages.close();
      }
    });
  },
  { URL_IMPORT_ALLOW_HOSTS: '127.0.0.1' },
);
