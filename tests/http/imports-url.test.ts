import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStorage } from '../support/app.js';
import { buildPdf } from '../support/documents.js';
import { pdfWithStream } from '../support/pdf-streams.js';
import { registerUser } from '../support/factories.js';
import { type LocalServer, startLocalServer } from '../support/local-server.js';

const ARTICLE = `<!doctype html><html><head><title>  The Quiet   Engine </title><script>var tracking = "secret-script";</script></head>
<body><nav>Home | About | Login</nav><header>Site header text</header>
<main><article><h1>The Quiet Engine</h1>
<p>Steam engines changed the pace of industry in the nineteenth century, turning coal into motion at a scale never seen before.</p>
<p>Their efficiency improved steadily as engineers learned to recover heat and to raise pressures without bursting boilers.</p>
<p>By the end of the century, turbines had begun to replace pistons in the largest installations, from ships to power stations.</p>
</article></main><footer>Copyright footer</footer></body></html>`;

let pages: LocalServer;

beforeAll(async () => {
  pages = await startLocalServer((req, res) => {
    const path = req.url ?? '/';
    if (path === '/article') return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(ARTICLE);
    if (path === '/hop') return res.writeHead(302, { location: '/hop2' }).end();
    if (path === '/hop2') return res.writeHead(301, { location: `http://127.0.0.1:${pages.port}/article` }).end();
    if (path.startsWith('/loop')) return res.writeHead(302, { location: `/loop${path.length}` }).end();
    if (path === '/to-metadata') return res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end();
    if (path === '/to-localhost-name') return res.writeHead(307, { location: `http://localhost:${pages.port}/article` }).end();
    if (path === '/to-file') return res.writeHead(302, { location: 'file:///etc/passwd' }).end();
    if (path === '/slow') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.write('<html><body><p>');
      return; // never finishes
    }
    if (path === '/endless') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const pump = () => {
        while (res.write(chunk)) {
          /* keep writing until backpressure */
        }
      };
      res.on('drain', pump);
      res.on('close', () => res.off('drain', pump));
      return pump();
    }
    if (path === '/big-declared') return res.writeHead(200, { 'content-type': 'text/html', 'content-length': String(50 * 1024 * 1024) }).end('x');
    if (path === '/plain') return res.writeHead(200, { 'content-type': 'text/plain' }).end('First paragraph of plain text notes about lunar geology.\n\nSecond paragraph describing basalt plains in detail.');
    if (path === '/image') return res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    if (path === '/json') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"a":1}');
    if (path === '/report.pdf') {
      const pdf = buildPdf([['Quarterly report on orbital debris tracking.', 'Collision risk rose in low orbits.'], ['Page two: mitigation with drag sails.']]);
      return res.writeHead(200, { 'content-type': 'application/pdf' }).end(pdf);
    }
    if (path === '/nul-title') return res.writeHead(200, { 'content-type': 'text/html' }).end(ARTICLE.replace('The Quiet   Engine', 'Bad\u0000Title\u0007 Here'));
    if (path === '/missing') return res.writeHead(404, { 'content-type': 'text/html' }).end('nope');
    if (path === '/tiny') return res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body><p>Hi</p></body></html>');
    if (path === '/latin1') return res.writeHead(200, { 'content-type': 'text/plain; charset=iso-8859-1' }).end(Buffer.from('Caf\xe9 cr\xe8me br\xfbl\xe9e is a dessert served cold with a caramel top, very popular.', 'latin1'));
    res.writeHead(404).end();
  });
});
afterAll(() => pages.close());

describeEachStorage(
  'URL import (allowlisted local pages)',
  (ctx) => {
    // The 1 s deadline also covers starting a parser process and loading its libraries, which a
    // busy test machine may not manage in time: start one before the tests (it stays for 30 s idle).
    beforeAll(async () => {
      const page = { kind: 'page', charset: null, summarize: false, maxChars: 100, pdfTitle: null } as const;
      await ctx().deps.documentParser.parse({ ...page, contentType: 'text/html', body: Buffer.from(ARTICLE) });
      await ctx().deps.documentParser.parse({ ...page, contentType: 'application/pdf', body: buildPdf([['warm-up']]) });
    });

    const importUrl = async (url: string, extra: Record<string, unknown> = {}) => {
      const app = ctx();
      const s = await registerUser(app);
      const ws = await app.deps.prisma.workspace.findFirstOrThrow({ where: { ownerId: s.user.id } });
      const res = await app.http.post(`/api/workspaces/${ws.id}/memories/import-url`).set(s.auth).send({ url, ...extra });
      return { res, app, s, ws };
    };

    it('extracts the article: title, paragraphs kept, chrome and scripts dropped; stored per §5.12 with an activity', async () => {
      const { res, app, ws, s } = await importUrl(pages.url('/article'), { summarize: false });
      expect(res.status).toBe(201);
      expect(res.body.ok).toBe(true);
      const { memory, source_type, was_summarized } = res.body.data;
      expect(source_type).toBe('webpage');
      expect(was_summarized).toBe(false);
      expect(memory.title).toBe('[Imported] The Quiet Engine');
      expect(memory.content).toContain('Steam engines changed the pace of industry');
      expect(memory.content.split('\n\n').length).toBeGreaterThanOrEqual(3);
      expect(memory.content).not.toMatch(/secret-script|Copyright footer|Home \| About/);
      expect(memory.tags).toEqual(['imported', 'source:webpage']);
      expect(memory.metadata).toMatchObject({ source_url: pages.url('/article'), source_type: 'webpage', scrape_mode: 'basic', was_summarized: false });
      expect(memory.snippet).toBe(memory.content.length > 150 ? `${memory.content.slice(0, 150)}...` : memory.content);
      expect(memory).toMatchObject({ id: expect.stringMatching(/^memory-[0-9a-f]{12}$/), workspaceId: ws.id, version: 1, embedding: null });
      const row = await app.deps.prisma.memory.findUniqueOrThrow({ where: { id: memory.id } });
      expect(row).toMatchObject({ authorId: s.user.id, embeddingStatus: 'pending' });
      const activity = await app.deps.prisma.activity.findFirst({ where: { workspaceId: ws.id, type: 'memory_created' } });
      expect(activity).toMatchObject({ description: `Memory '${memory.title}' created`, metadata: { memoryId: memory.id, memoryTitle: memory.title } });
    });

    it('follows redirects (each hop re-checked) up to 5, and refuses more', async () => {
      const ok = await importUrl(pages.url('/hop'));
      expect(ok.res.status).toBe(201);
      expect(ok.res.body.data.memory.metadata.source_url).toBe(pages.url('/hop'));
      const loop = await importUrl(pages.url('/loop'));
      expect(loop.res.status).toBe(400);
      expect(loop.res.body).toEqual({ ok: false, data: null, error: 'Too many redirects (more than 5)' });
    });

    it('refuses a redirect to a blocked address, to a non-allowlisted loopback name, or to file://', async () => {
      for (const path of ['/to-metadata', '/to-localhost-name', '/to-file']) {
        const { res } = await importUrl(pages.url(path));
        expect(res.status, path).toBe(400);
        expect(res.body.ok).toBe(false);
        expect(typeof res.body.error).toBe('string');
      }
    });

    it('times out a slow server (URL_IMPORT_TIMEOUT) and caps an endless body', async () => {
      const slow = await importUrl(pages.url('/slow'));
      expect(slow.res.status).toBe(400);
      expect(slow.res.body.error).toBe('Request timed out');
      const endless = await importUrl(pages.url('/endless'));
      expect(endless.res.status).toBe(400);
      expect(endless.res.body.error).toBe('Content too large (limit 5 MB)');
      const declared = await importUrl(pages.url('/big-declared'));
      expect(declared.res.body.error).toBe('Content too large (limit 5 MB)');
    });

    it('reads text/plain (paragraphs kept, charset honoured) and refuses other types', async () => {
      const plain = await importUrl(pages.url('/plain'));
      expect(plain.res.status).toBe(201);
      expect(plain.res.body.data.memory.content).toBe('First paragraph of plain text notes about lunar geology.\n\nSecond paragraph describing basalt plains in detail.');
      expect(plain.res.body.data.memory.title).toBe('[Imported] Imported');
      const nul = await importUrl(pages.url('/nul-title'));
      expect(nul.res.status).toBe(201);
      expect(nul.res.body.data.memory.title).toMatch(/^\[Imported\] BadTitle Here|^\[Imported\] The Quiet Engine/);
      const latin = await importUrl(pages.url('/latin1'));
      expect(latin.res.body.data.memory.content).toMatch(/^Café crème brûlée/);
      for (const path of ['/image', '/json']) {
        const { res } = await importUrl(pages.url(path));
        expect(res.status).toBe(400);
        expect(res.body.error).toMatch(/^Unsupported content type: /);
      }
    });

    it('imports a PDF by URL through the PDF parser', async () => {
      const { res } = await importUrl(pages.url('/report.pdf'));
      expect(res.status).toBe(201);
      expect(res.body.data.memory.title).toBe('[Imported] report.pdf');
      expect(res.body.data.memory.content).toContain('Quarterly report on orbital debris tracking.');
      expect(res.body.data.memory.content).toContain('\n\nPage two: mitigation with drag sails.');
    });

    it('reports HTTP errors, empty pages, missing URL and advanced mode without Chromium as 400 strings', async () => {
      expect((await importUrl(pages.url('/missing'))).res.body.error).toBe('Request failed: HTTP 404');
      expect((await importUrl(pages.url('/tiny'))).res.body.error).toBe('No meaningful content found. Try Advanced mode for JS-heavy sites.');
      const app = ctx();
      const s = await registerUser(app);
      const ws = await app.deps.prisma.workspace.findFirstOrThrow({ where: { ownerId: s.user.id } });
      const missing = await app.http.post(`/api/workspaces/${ws.id}/memories/import-url`).set(s.auth).send({});
      expect(missing.status).toBe(400);
      expect(missing.body).toEqual({ ok: false, data: null, error: 'URL is required' });
      const yes = await app.http.post(`/api/workspaces/${ws.id}/memories/import-url`).set(s.auth).send({ url: pages.url('/article'), summarize: 'yes' });
      expect(yes.body.error).toBe('summarize must be "true" or "false"');
      const advanced = await importUrl(pages.url('/article'), { mode: 'advanced' });
      expect(advanced.res.status).toBe(400);
      expect(advanced.res.body.error).toBe('Advanced scraping not available. Playwright not installed. Use Basic mode or upgrade server.');
      expect(await app.deps.prisma.memory.count({ where: { workspaceId: ws.id } })).toBe(0);
    });

    it('summarises long pages extractively (§5.12)', async () => {
      const long = await startLocalServer((_req, res) => {
        const paras = Array.from({ length: 30 }, (_, i) => `<p>Paragraph ${i} ${'lorem ipsum dolor sit amet '.repeat(8)}</p>`).join('');
        res.writeHead(200, { 'content-type': 'text/html' }).end(`<html><head><title>Long</title></head><body><article>${paras}</article></body></html>`);
      });
      try {
        const { res } = await importUrl(long.url('/'), { summarize: true });
        expect(res.status).toBe(201);
        expect(res.body.data.was_summarized).toBe(true);
        expect(res.body.data.memory.content).toMatch(/\n\n\[Content truncated from \d+ to \d+ characters\]$/);
        expect(res.body.data.memory.metadata.was_summarized).toBe(true);
      } finally {
        await long.close();
      }
    });
  },
  { URL_IMPORT_ALLOW_HOSTS: '127.0.0.1', URL_IMPORT_TIMEOUT: '1s' },
);

describeEachStorage(
  'URL import: document limits and one deadline for fetch and parse',
  (ctx) => {
    let hostile: LocalServer;
    beforeAll(async () => {
      hostile = await startLocalServer((req, res) => {
        if (req.url === '/nested') return res.writeHead(200, { 'content-type': 'text/html' }).end(`<html><body>${'<div>'.repeat(11_000)}x</body></html>`);
        if (req.url === '/bomb.pdf') return res.writeHead(200, { 'content-type': 'application/pdf' }).end(pdfWithStream(Buffer.alloc(2 * 1024 * 1024, 0x20)));
        // 700,000 elements: within this suite's element limit, but seconds of DOM building.
        if (req.url === '/huge') return res.writeHead(200, { 'content-type': 'text/html' }).end(`<html><body>${'<i></i>'.repeat(700_000)}</body></html>`);
        res.writeHead(404).end();
      });
      // Start a parser process with its libraries before the deadlines below are measured.
      const page = { kind: 'page', charset: null, summarize: false, maxChars: 100, pdfTitle: null } as const;
      await ctx().deps.documentParser.parse({ ...page, contentType: 'text/html', body: Buffer.from(ARTICLE) });
      await ctx().deps.documentParser.parse({ ...page, contentType: 'application/pdf', body: buildPdf([['warm-up']]) });
    });
    afterAll(() => hostile.close());
    const importUrl = async (url: string) => {
      const app = ctx();
      const s = await registerUser(app);
      const ws = await app.deps.prisma.workspace.findFirstOrThrow({ where: { ownerId: s.user.id } });
      const res = await app.http.post(`/api/workspaces/${ws.id}/memories/import-url`).set(s.auth).send({ url });
      expect(await app.deps.prisma.memory.count({ where: { workspaceId: ws.id } })).toBe(0);
      return res;
    };

    it('a page nested past the depth limit gets 422, a PDF past the inflation limit 413, each naming the limit', async () => {
      expect((await importUrl(hostile.url('/nested'))).body).toEqual({ ok: false, data: null, error: 'The document is too complex to import (nested more than 32 levels deep)' });
      const bomb = await importUrl(hostile.url('/bomb.pdf'));
      expect(bomb.status).toBe(413);
      expect(bomb.body.error).toBe('The document expands beyond the allowed size (limit 1 MB uncompressed)');
    });

    it('URL_IMPORT_TIMEOUT covers parsing: a page that parses longer than the time left is cut off with the 422 of a parse deadline, its parser killed', async () => {
      const res = await importUrl(hostile.url('/huge'));
      expect(res.status).toBe(422);
      // The parse had what the 1 s deadline left after the fetch.
      expect(res.body).toEqual({ ok: false, data: null, error: expect.stringMatching(/^The document is too complex to import \(parsing took longer than (0\.\d|1) s\)$/) });
      expect(ctx().deps.documentParser.stats()).toMatchObject({ busy: 0 });
    });
  },
  {
    URL_IMPORT_ALLOW_HOSTS: '127.0.0.1',
    URL_IMPORT_TIMEOUT: '1s',
    IMPORT_PARSE_TIMEOUT: '60s',
    IMPORT_MAX_DEPTH: '32',
    IMPORT_MAX_ELEMENTS: '2000000',
    IMPORT_MAX_INFLATED_BYTES: String(1024 * 1024),
  },
);
