/**
 * Short forms of the hostile-document cases of tests/reliability/hostile-documents.test.ts:
 * one real attack per kind of document, each past a parser limit, sent to the in-process app.
 * Each gets a 4xx envelope naming the limit (no timeout, no 5xx, nothing stored), and a health
 * request sent alongside it is answered. A legitimate report near the 10 MB upload cap still
 * imports with its text. The timings and memory figures are the reliability suite's; here
 * only the outcome is checked.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStorage, type TestApp } from '../support/app.js';
import { registerUser } from '../support/factories.js';
import { illustratedReportPdf, KiB, MiB, nestedStacksPage, nestedTagsHtml, pdfStreamBomb, rtfInfoBomb, UPLOAD_CAP_BYTES, wordBombDocx } from '../support/hostile-documents.js';
import { type LocalServer, startLocalServer } from '../support/local-server.js';

/** What a refusal at a limit says: the size, the depth, the number of elements, or the complexity. */
const NAMES_A_LIMIT = /too (large|big|deep|complex|many)|exceed|limit|nest|expand|inflat/i;

interface ShortCase {
  label: string;
  via: 'upload' | 'url';
  name: string;
  contentType: string;
  build: () => Buffer;
  /** The refusal expected instead of one at a limit (a document that is read, fast, and found empty). */
  refusal?: { status: number; error: string };
}

const memo = <T>(build: () => T) => {
  let value: T | undefined;
  return () => (value ??= build());
};

const CASES: ShortCase[] = [
  { label: 'DOCX of 20 MiB of one-letter paragraphs (60 KiB sent)', via: 'upload', name: 'bomb.docx', contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', build: memo(() => wordBombDocx(20 * MiB)) },
  { label: 'HTML file of <b> nested 300,000 deep', via: 'upload', name: 'nested.html', contentType: 'text/html', build: memo(() => nestedTagsHtml(300_000)) },
  { label: 'URL import of a page of <div> stacks 2,000 deep', via: 'url', name: '/nested.html', contentType: 'text/html; charset=utf-8', build: memo(() => nestedStacksPage(40 * KiB, 2000)) },
  // Read in one pass and found to hold no text; the regexes it replaced took minutes on it.
  {
    label: 'RTF of {\\info nested 200,000 deep', via: 'upload', name: 'info.rtf', contentType: 'application/rtf', build: memo(() => rtfInfoBomb(200_000)),
    refusal: { status: 400, error: 'Could not extract meaningful content from the file' },
  },
  { label: 'PDF whose one stream inflates to 84 MiB', via: 'upload', name: 'stream.pdf', contentType: 'application/pdf', build: memo(() => pdfStreamBomb(84 * MiB)) },
  { label: 'URL import of the same PDF', via: 'url', name: '/stream.pdf', contentType: 'application/pdf', build: memo(() => pdfStreamBomb(84 * MiB)) },
];

const legitimateReport = memo(() => illustratedReportPdf());

let pages: LocalServer;
beforeAll(async () => {
  pages = await startLocalServer((req, res) => {
    const c = CASES.find((x) => x.via === 'url' && x.name === req.url);
    if (!c) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': c.contentType }).end(c.build());
  });
});
afterAll(() => pages?.close());

async function owner(app: TestApp) {
  const s = await registerUser(app);
  const ws = await app.deps.prisma.workspace.findFirstOrThrow({ where: { ownerId: s.user.id } });
  return { s, ws };
}

describeEachStorage(
  'hostile documents (short forms)',
  (ctx) => {
    for (const c of CASES) {
      it(`${c.label}: ${c.refusal ? `a ${c.refusal.status}` : 'a 4xx naming the limit'}, health answered alongside, nothing stored`, async () => {
        const app = ctx();
        const { s, ws } = await owner(app);
        const base = `/api/workspaces/${ws.id}/memories`;
        const attack =
          c.via === 'url'
            ? app.http.post(`${base}/import-url`).set(s.auth).send({ url: pages.url(c.name), summarize: false })
            : app.http.post(`${base}/import-file`).set(s.auth).field('summarize', 'false').attach('file', c.build(), { filename: c.name, contentType: c.contentType });
        const [res, health] = await Promise.all([attack, app.http.get('/api/health')]);
        if (c.refusal) expect({ status: res.status, body: res.body }).toEqual({ status: c.refusal.status, body: { ok: false, data: null, error: c.refusal.error } });
        else {
          expect([413, 422], JSON.stringify(res.body)).toContain(res.status);
          expect(res.body).toMatchObject({ ok: false, error: expect.stringMatching(NAMES_A_LIMIT) });
        }
        expect(health.status).toBe(200);
        expect(await app.deps.prisma.memory.count({ where: { workspaceId: ws.id } })).toBe(0);
      });
    }

    it('a legitimate 126-page PDF report with pictures, near the 10 MB cap, imports with its text', async () => {
      const app = ctx();
      const { s, ws } = await owner(app);
      const report = legitimateReport();
      expect(report.bytes.length).toBeGreaterThan(UPLOAD_CAP_BYTES * 0.9);
      const res = await app.http.post(`/api/workspaces/${ws.id}/memories/import-file`).set(s.auth).field('summarize', 'false').attach('file', report.bytes, { filename: 'report.pdf', contentType: 'application/pdf' });
      expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(201);
      for (const sample of report.samples) expect(res.body.data.memory.content).toContain(sample);
    });
  },
  { URL_IMPORT_ALLOW_HOSTS: '127.0.0.1' },
);
