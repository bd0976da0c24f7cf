/**
 * Advanced URL import through headless Chromium (CHROMIUM_PATH). Runs where a Chromium
 * executable exists (`apt-get install chromium`); the page builds its article with a script,
 * which basic mode cannot see, and tries to call home, which the browser must never reach.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachStorage } from '../support/app.js';
import { registerUser } from '../support/factories.js';
import { type LocalServer, startLocalServer } from '../support/local-server.js';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PARAGRAPHS = [
  'Tidal turbines sit on the sea bed of narrow estuaries, where the current runs fastest twice a day.',
  'Their output is predictable years ahead, which makes them easier to plan around than wind or sun.',
  'The hardest engineering problem is corrosion: salt water and moving parts wear each other out.',
];
const PAGE = `<!doctype html><html><head><title>Rendered Tides</title></head><body><div id="root"></div><script>
const root = document.getElementById('root');
for (const text of ${JSON.stringify(PARAGRAPHS)}) { const p = document.createElement('p'); p.textContent = text; root.appendChild(p); }
fetch('/beacon').catch(() => {});
new Image().src = '/pixel';
</script></body></html>`;

let pages: LocalServer;
const requested: string[] = [];

describe.skipIf(!existsSync(chromium))('advanced URL import (headless Chromium)', () => {
  beforeAll(async () => {
    pages = await startLocalServer((req, res) => {
      requested.push(req.url ?? '');
      if (req.url === '/tides') return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      res.writeHead(204).end();
    });
  });
  afterAll(() => pages.close());

  describeEachStorage(
    'advanced mode',
    (ctx) => {
      it('renders script-built content that basic mode cannot see, and the page reaches nothing itself', async () => {
        const app = ctx();
        const s = await registerUser(app);
        const ws = await app.deps.prisma.workspace.findFirstOrThrow({ where: { ownerId: s.user.id } });
        const send = (mode: string) => app.http.post(`/api/workspaces/${ws.id}/memories/import-url`).set(s.auth).send({ url: pages.url('/tides'), mode, summarize: false });

        const basic = await send('basic');
        expect(basic.status).toBe(400);
        expect(basic.body.error).toBe('No meaningful content found. Try Advanced mode for JS-heavy sites.');

        requested.length = 0;
        const advanced = await send('advanced');
        expect(advanced.status).toBe(201);
        const { memory } = advanced.body.data;
        expect(memory.title).toBe('[Imported] Rendered Tides');
        for (const p of PARAGRAPHS) expect(memory.content).toContain(p);
        expect(memory.tags).toContain('playwright-scraped');
        expect(memory.metadata.scrape_mode).toBe('advanced');
        // Only the vetted fetch of the page itself: the browser's own requests were all blocked.
        expect(requested).toEqual(['/tides']);
      }, 60_000);
    },
    { URL_IMPORT_ALLOW_HOSTS: '127.0.0.1', CHROMIUM_PATH: chromium },
  );
});
