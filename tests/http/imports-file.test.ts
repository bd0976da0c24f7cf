import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { PARSERS_BUSY } from '../../src/services/imports/parser-pool.js';
import { describeEachStorage, type TestApp } from '../support/app.js';
import { buildDocx, buildPdf, buildZip, documentXml } from '../support/documents.js';
import { registerUser } from '../support/factories.js';
import { pdfWithStream, textOperators } from '../support/pdf-streams.js';

/** The start of a legacy Office (OLE compound) file, as a .doc has. */
const OLE = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

const PARAS = ['Alpha paragraph about tidal energy and its seasonal variation.', 'Beta paragraph on storage with pumped hydro.', 'Gamma paragraph: grid balancing at night.'];

async function owner(app: TestApp) {
  const s = await registerUser(app);
  const ws = await app.deps.prisma.workspace.findFirstOrThrow({ where: { ownerId: s.user.id } });
  return { s, ws, path: `/api/workspaces/${ws.id}/memories/import-file` };
}

/** Uploads a file that must import (201), and returns the answer's data. */
const imported = (app: TestApp, { s, path }: Awaited<ReturnType<typeof owner>>) => async (bytes: Buffer, name: string) => {
  const res = await app.http.post(path).set(s.auth).attach('file', bytes, name);
  expect(res.status, `${name}: ${JSON.stringify(res.body)}`).toBe(201);
  expect(res.body.data.original_filename).toBe(name);
  return res.body.data;
};

describeEachStorage('file import', (ctx) => {
  it('imports a real PDF and DOCX with paragraphs kept; wire shape and stored memory per §5.13', async () => {
    const app = ctx();
    const { s, ws, path } = await owner(app);
    const pdf = await app.http.post(path).set(s.auth).attach('file', buildPdf([PARAS.slice(0, 2), PARAS.slice(2)]), 'Energy Notes.v2.pdf');
    expect(pdf.status).toBe(201);
    expect(pdf.body.data).toMatchObject({ file_type: 'pdf', original_filename: 'Energy Notes.v2.pdf', was_summarized: false });
    const memory = pdf.body.data.memory;
    expect(memory.title).toBe('[File] Energy Notes.v2');
    expect(memory.tags).toEqual(['imported', 'file-upload', 'format:pdf']);
    expect(memory.content).toContain(`${PARAS[1]}\n\n${PARAS[2]}`);
    expect(memory.metadata).toMatchObject({ source_type: 'file', original_filename: 'Energy Notes.v2.pdf', file_type: 'pdf', file_size: expect.any(Number), was_summarized: false });
    expect(memory).toMatchObject({ workspaceId: ws.id, version: 1, embedding: null });
    const docx = await app.http.post(path).set(s.auth).field('summarize', 'false').attach('file', buildDocx(PARAS), 'plan.docx');
    expect(docx.status).toBe(201);
    expect(docx.body.data.file_type).toBe('docx');
    expect(docx.body.data.memory.content).toBe(PARAS.join('\n\n'));
    const rows = await app.deps.prisma.memory.findMany({ where: { workspaceId: ws.id } });
    expect(rows.every((r) => r.embeddingStatus === 'pending' && r.authorId === s.user.id)).toBe(true);
    expect(await app.deps.prisma.activity.count({ where: { workspaceId: ws.id, type: 'memory_created' } })).toBe(2);
  });

  it('reads text formats: encodings detected, html/json/csv/rtf/markdown converted', async () => {
    const app = ctx();
    const send = imported(app, await owner(app));
    const text = 'Crème brûlée — naïve café.\n\nSecond paragraph here.';
    expect((await send(Buffer.from(text, 'utf8'), 'a.txt')).memory.content).toBe(text);
    expect((await send(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), 'bom.txt')).memory.content).toBe(text);
    expect((await send(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), 'u16.txt')).memory.content).toBe(text);
    expect((await send(Buffer.from(text, 'utf16le'), 'u16-nobom.txt')).memory.content).toBe(text);
    const latin = Buffer.from('Caf\xe9 cr\xe8me \x93quoted\x94 text in windows-1252', 'latin1');
    expect((await send(latin, 'legacy.txt')).memory.content).toBe('Café crème “quoted” text in windows-1252');
    const md = await send(Buffer.from('# Title\n\nSome *markdown* body text.'), 'notes.md');
    expect(md.file_type).toBe('markdown');
    const html = await send(Buffer.from('<html><head><style>x{}</style></head><body><h1>Heading</h1><p>First para.</p><p>Second para.</p><script>bad()</script></body></html>'), 'page.htm');
    expect(html).toMatchObject({ file_type: 'html', memory: { content: 'Heading\n\nFirst para.\n\nSecond para.' } });
    const json = await send(Buffer.from('{"name":"probe","values":[1,2]}'), 'data.json');
    expect(json.memory.content).toBe('{\n  "name": "probe",\n  "values": [\n    1,\n    2\n  ]\n}');
    const csv = await send(Buffer.from('name,notes\n"Smith, J","said ""hi"""\nDoe,plain\n'), 'people.csv');
    expect(csv.memory.content).toBe('name | notes\nSmith, J | said "hi"\nDoe | plain');
    const rtf = await send(Buffer.from('{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}\\f0 Hello {\\b bold} world.\\par Next paragraph.}'), 'doc.rtf');
    expect(rtf).toMatchObject({ file_type: 'rtf', memory: { content: 'Hello bold world.\n\nNext paragraph.' } });
  });

  it('an .html file holding plain text (no markup) is imported as text, not a 500', async () => {
    const app = ctx();
    const { s, path } = await owner(app);
    const r = await app.http.post(path).set(s.auth).attach('file', Buffer.from('Just a sentence in a file named like a web page, nothing more.'), 'page.html');
    expect(r.status).toBe(201);
    expect(r.body.data.memory.content).toBe('Just a sentence in a file named like a web page, nothing more.');
  });

  it('refuses bad files with string errors and stores nothing', async () => {
    const app = ctx();
    const { s, ws, path } = await owner(app);
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 1)]);
    const cases: [Buffer, string, number, string | RegExp][] = [
      [png, 'photo.txt', 400, 'The file content does not match its extension (.txt)'],
      [png, 'photo.pdf', 400, 'The file content does not match its extension (.pdf)'],
      [png, 'fake.docx', 400, 'The file content does not match its extension (.docx)'],
      [Buffer.from('%PDF-1.4 garbage garbage'), 'broken.pdf', 400, /^Could not read the PDF/],
      [Buffer.alloc(0), 'empty.txt', 400, 'The uploaded file is empty'],
      [Buffer.from('short'), 'short.txt', 400, 'Could not extract meaningful content from the file'],
      [Buffer.from('MZ binary'), 'tool.exe', 400, 'Unsupported file type. Supported: .pdf, .docx, .txt, .md, .html, .json, .csv'],
      [OLE, 'old.doc', 400, 'Legacy .doc format is not supported. Please convert to .docx'],
      [png, 'photo', 400, 'Unsupported file type. Supported: .pdf, .docx, .txt, .md, .html, .json, .csv'],
    ];
    for (const [bytes, name, status, error] of cases) {
      const res = await app.http.post(path).set(s.auth).attach('file', bytes, name);
      expect(res.status, name).toBe(status);
      expect(res.body.ok).toBe(false);
      if (typeof error === 'string') expect(res.body.error, name).toBe(error);
      else expect(res.body.error, name).toMatch(error);
    }
    expect(await app.deps.prisma.memory.count({ where: { workspaceId: ws.id } })).toBe(0);
  });

  it('recognises PDF, DOCX, HTML, JSON and RTF by their bytes under no or a wrong extension; UTF-8 text is text (D16)', async () => {
    const app = ctx();
    const send = imported(app, await owner(app));
    const pdf = buildPdf([PARAS]);
    const docx = buildDocx(PARAS);
    const html = Buffer.from(`\ufeff\n  <!DOCTYPE html><html><head><title>t</title></head><body><p>${PARAS[0]}</p><p>${PARAS[1]}</p></body></html>`);
    const json = Buffer.from(' {"name": "probe", "values": [1, 2]}\n');
    const cases: [Buffer, string, string, string][] = [
      [pdf, 'scan', 'pdf', PARAS[0]!],
      [pdf, 'scan.txt', 'pdf', PARAS[0]!],
      [docx, 'plan', 'docx', PARAS.join('\n\n')],
      [docx, 'plan.pdf', 'docx', PARAS.join('\n\n')],
      [docx, 'plan.doc', 'docx', PARAS.join('\n\n')],
      [html, 'page', 'html', `${PARAS[0]}\n\n${PARAS[1]}`],
      [html, 'page.pdf', 'html', `${PARAS[0]}\n\n${PARAS[1]}`],
      [Buffer.from('<div>Saved fragment of a page, with enough words.</div>'), 'fragment.bin', 'html', 'Saved fragment of a page, with enough words.'],
      [json, 'data', 'json', '{\n  "name": "probe",\n  "values": [\n    1,\n    2\n  ]\n}'],
      [Buffer.from('[{"id": 1}, {"id": 2}]'), 'rows.docx', 'json', '[\n  {\n    "id": 1\n  },\n  {\n    "id": 2\n  }\n]'],
      [Buffer.from('{\\rtf1\\ansi Saved by a word processor as .doc.}'), 'letter.doc', 'rtf', 'Saved by a word processor as .doc.'],
      [Buffer.from('Plain notes without an extension.\n\nSecond paragraph.'), 'README', 'text', 'Plain notes without an extension.\n\nSecond paragraph.'],
      [Buffer.from('2025-01-01 server started\tport=8000\n'), 'server.log', 'text', '2025-01-01 server started\tport=8000'],
      [Buffer.from('[Draft] notes that start with a bracket'), 'draft', 'text', '[Draft] notes that start with a bracket'],
      [Buffer.from('plain text pretending to be a document'), 'fake.docx', 'text', 'plain text pretending to be a document'],
      // An extension the content fits keeps its type: JSON in a .txt, and a PDF header quoted in text.
      [json, 'data.txt', 'text', json.toString().trim()],
      [Buffer.from('Notes on the file format: each starts with %PDF-1.7 and a binary line.'), 'notes.txt', 'text', 'Notes on the file format: each starts with %PDF-1.7 and a binary line.'],
    ];
    for (const [bytes, name, type, content] of cases) {
      const data = await send(bytes, name);
      expect(data.file_type, name).toBe(type);
      expect(data.memory.tags, name).toContain(`format:${type}`);
      expect(data.memory.metadata.file_type, name).toBe(type);
      if (type === 'pdf') expect(data.memory.content, name).toContain(content);
      else expect(data.memory.content, name).toBe(content);
    }
  });

  it('without a usable extension, content that is not UTF-8 text or has binary control characters keeps the 400', async () => {
    const app = ctx();
    const { s, ws, path } = await owner(app);
    const UNSUPPORTED = 'Unsupported file type. Supported: .pdf, .docx, .txt, .md, .html, .json, .csv';
    const cases: [Buffer, string, string][] = [
      [Buffer.from('Caf\xe9 cr\xe8me in windows-1252, not UTF-8', 'latin1'), 'legacy', UNSUPPORTED],
      [Buffer.from('Text with a NUL \u0000 inside it, as binaries have'), 'blob', UNSUPPORTED],
      [Buffer.from('Text with a control character \u0001 in it'), 'blob.dat', UNSUPPORTED],
      [buildZip([['notes.txt', 'Some notes inside an archive.']]), 'archive', UNSUPPORTED],
      [Buffer.concat([OLE, Buffer.alloc(100)]), 'old.doc', 'Legacy .doc format is not supported. Please convert to .docx'],
    ];
    for (const [bytes, name, error] of cases) {
      const res = await app.http.post(path).set(s.auth).attach('file', bytes, name);
      expect(res.status, name).toBe(400);
      expect(res.body, name).toEqual({ ok: false, data: null, error });
    }
    expect(await app.deps.prisma.memory.count({ where: { workspaceId: ws.id } })).toBe(0);
  });

  it('refuses a zip-bomb docx before the document parser inflates it', async () => {
    const app = ctx();
    const { s, path } = await owner(app);
    // ~110 MB of XML (over the 64 MB inflation ceiling, IMPORT_MAX_INFLATED_BYTES) that deflates to ~100 KB.
    const padding = Buffer.alloc(110 * 1024 * 1024, 0x20);
    const xml = Buffer.concat([Buffer.from(documentXml(['x']).replace('<w:body>', '<w:body><!--')), padding, Buffer.from('--></w:body></w:document>')]);
    const bomb = buildDocx([], xml);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const res = await app.http.post(path).set(s.auth).attach('file', bomb, 'bomb.docx');
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('The document expands beyond the allowed size (limit 64 MB uncompressed)');
  });

  it('answers 413 with a string for an 11 MB file, and 400 strings for multipart mistakes', async () => {
    const app = ctx();
    const { s, ws, path } = await owner(app);
    const big = await app.http.post(path).set(s.auth).attach('file', Buffer.alloc(11 * 1024 * 1024, 'a'), 'big.txt');
    expect(big.status).toBe(413);
    expect(big.body).toEqual({ ok: false, data: null, error: 'File too large. Maximum size is 10 MB.' });
    const none = await app.http.post(path).set(s.auth).field('summarize', 'true');
    expect(none.body).toEqual({ ok: false, data: null, error: 'No file uploaded' });
    const json = await app.http.post(path).set(s.auth).send({ file: 'x' });
    expect(json.body.error).toBe('No file uploaded');
    const two = await app.http.post(path).set(s.auth).attach('file', Buffer.from('one file content here'), 'a.txt').attach('file', Buffer.from('two file content here'), 'b.txt');
    expect(two.status).toBe(400);
    expect(two.body.error).toBe('Only one file can be uploaded at a time');
    const other = await app.http.post(path).set(s.auth).attach('upload', Buffer.from('content in wrong field'), 'a.txt');
    expect(other.body.error).toBe('Unexpected file field; send the file in the "file" field');
    const yes = await app.http.post(path).set(s.auth).field('summarize', 'yes').attach('file', Buffer.from('valid text content'), 'a.txt');
    expect(yes.status).toBe(400);
    expect(yes.body.error).toBe('summarize must be "true" or "false"');
    const wrongBoundary = await app.http
      .post(path)
      .set(s.auth)
      .set('Content-Type', 'multipart/form-data; boundary=XYZ')
      .send('--ABC\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello world text\r\n--ABC--\r\n');
    expect(wrongBoundary.status).toBe(400);
    expect(typeof wrongBoundary.body.error).toBe('string');
    const noBoundary = await app.http.post(path).set(s.auth).set('Content-Type', 'multipart/form-data').send('garbage');
    expect(noBoundary.status).toBe(400);
    expect(typeof noBoundary.body.error).toBe('string');
    expect(await app.deps.prisma.memory.count({ where: { workspaceId: ws.id } })).toBe(0);
  });

  it('sanitises unicode filenames with ../ and NUL before storing or echoing them', async () => {
    const app = ctx();
    const { s, path } = await owner(app);
    const server = app.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as AddressInfo).port;
    // supertest cannot put a NUL in a filename, so the multipart body is written by hand.
    const post = (disposition: string) => {
      const boundary = 'chimeraBoundary42';
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; ${disposition}\r\nContent-Type: text/plain\r\n\r\n`, 'utf8'),
        Buffer.from('Notes on the study, with enough text to import.'),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      return new Promise<{ status: number; body: any }>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port, method: 'POST', path, headers: { ...s.auth, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': body.length } },
          (r) => {
            const chunks: Buffer[] = [];
            r.on('data', (c) => chunks.push(c));
            r.on('end', () => resolve({ status: r.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString()) }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    };
    try {
      // RFC 5987 encoding carries the NUL and the traversal into the decoded name.
      const encoded = await post(`filename*=UTF-8''${encodeURIComponent('../../étude\u0000 résumé 日本語.txt')}`);
      expect(encoded.status, JSON.stringify(encoded.body)).toBe(201);
      expect(encoded.body.data.original_filename).toBe('étude résumé 日本語.txt');
      expect(encoded.body.data.memory.title).toBe('[File] étude résumé 日本語');
      expect(encoded.body.data.memory.metadata.original_filename).toBe('étude résumé 日本語.txt');
      const windows = await post(`filename="..\\..\\Windows\\notes.txt"`);
      expect(windows.body.data.original_filename).toBe('notes.txt');
      // A raw NUL in the part header is a malformed body.
      const raw = await post('filename="bad\u0000name.txt"');
      expect(raw.status).toBe(400);
      expect(typeof raw.body.error).toBe('string');
    } finally {
      server.close();
    }
  });

  it('summarises long uploads when summarize is "true"', async () => {
    const app = ctx();
    const { s, path } = await owner(app);
    const long = Array.from({ length: 40 }, (_, i) => `Paragraph ${i}: ${'measured observations of the delta '.repeat(4)}`).join('\n\n');
    const res = await app.http.post(path).set(s.auth).field('summarize', 'true').attach('file', Buffer.from(long), 'long.md');
    expect(res.status).toBe(201);
    expect(res.body.data.was_summarized).toBe(true);
    expect(res.body.data.memory.content).toMatch(/\[Content truncated from \d+ to \d+ characters\]$/);
  });
});

/** A DOCX mammoth needs seconds to read (300,000 elements, within the default element limit). */
const slowDocx = () => buildDocx(Array.from({ length: 100_000 }, (_, i) => `p${i}`));

async function until(condition: () => boolean) {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 30_000) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describeEachStorage(
  'file import: the parser pool (one parser, no queue, 300 ms deadline)',
  (ctx) => {
    it('a parse past IMPORT_PARSE_TIMEOUT is killed with a 422 naming the limit; the next import works', async () => {
      const app = ctx();
      const { s, ws, path } = await owner(app);
      const slow = await app.http.post(path).set(s.auth).attach('file', slowDocx(), 'slow.docx');
      expect(slow.status).toBe(422);
      expect(slow.body).toEqual({ ok: false, data: null, error: 'The document is too complex to import (parsing took longer than 0.3 s)' });
      const next = await app.http.post(path).set(s.auth).attach('file', Buffer.from('Notes that import as usual after a killed parse.'), 'next.txt');
      expect(next.status).toBe(201);
      expect(await app.deps.prisma.memory.count({ where: { workspaceId: ws.id } })).toBe(1);
    });

    it('a full pool answers 503 with Retry-After instead of queueing', async () => {
      const app = ctx();
      const { s, ws, path } = await owner(app);
      const slow = app.http.post(path).set(s.auth).attach('file', slowDocx(), 'slow.docx').then((r) => r);
      await until(() => app.deps.documentParser.stats().busy === 1);
      const refused = await app.http.post(path).set(s.auth).attach('file', Buffer.from('A document that finds every parser busy.'), 'busy.txt');
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(refused.body).toEqual({ ok: false, data: null, error: PARSERS_BUSY });
      expect((await slow).status).toBe(422);
      expect(await app.deps.prisma.memory.count({ where: { workspaceId: ws.id } })).toBe(0);
    });
  },
  { IMPORT_WORKERS: '1', IMPORT_QUEUE_LIMIT: '0', IMPORT_PARSE_TIMEOUT: '300ms' },
);

describeEachStorage(
  'file import: document limits (1,000 elements, depth 32, 1 MB inflated, 64 MB parser heap)',
  (ctx) => {
    it('each limit answers its 4xx naming the limit, stores nothing, and ordinary documents still import', async () => {
      const app = ctx();
      const { s, ws, path } = await owner(app);
      const MB = 1024 * 1024;
      const send = (bytes: Buffer, name: string) => app.http.post(path).set(s.auth).attach('file', bytes, name);
      const cases: [Buffer, string, number, string][] = [
        [Buffer.from(`<html><body>${'<b>'.repeat(300_000)}x</body></html>`), 'nested.html', 422, 'The document is too complex to import (nested more than 32 levels deep)'],
        [Buffer.from(`<html><body>${'<p>para</p>'.repeat(1500)}</body></html>`), 'many.html', 422, 'The document is too complex to import (more than 1000 elements)'],
        [buildDocx(Array.from({ length: 400 }, (_, i) => `Paragraph ${i}`)), 'many.docx', 422, 'The document is too complex to import (more than 1000 elements)'],
        [buildDocx([], documentXml(['x']).replace('<w:body>', `<w:body><!--${' '.repeat(2 * MB)}-->`)), 'padded.docx', 413, 'The document expands beyond the allowed size (limit 1 MB uncompressed)'],
        [pdfWithStream(Buffer.alloc(2 * MB, 0x20)), 'bomb.pdf', 413, 'The document expands beyond the allowed size (limit 1 MB uncompressed)'],
        // Three million empty objects outgrow a 64 MB heap: the parser process dies, the server answers.
        [Buffer.from(`[${'{},'.repeat(3_000_000)}{}]`), 'objects.json', 422, 'The document is too complex to import (parsing needed more than 64 MB of memory)'],
        // 100,000 nested RTF groups are read in one pass (no text in them).
        [Buffer.from(`{\\rtf1 ${'{\\info '.repeat(100_000)}`), 'info.rtf', 400, 'Could not extract meaningful content from the file'],
      ];
      for (const [bytes, name, status, error] of cases) {
        const res = await send(bytes, name);
        expect(res.status, name).toBe(status);
        expect(res.body, name).toEqual({ ok: false, data: null, error });
      }
      expect(await app.deps.prisma.memory.count({ where: { workspaceId: ws.id } })).toBe(0);
      for (const [bytes, name] of [
        [buildDocx(PARAS), 'ok.docx'],
        [pdfWithStream(textOperators(40)), 'ok.pdf'],
        [Buffer.from(`<html><body>${PARAS.map((p) => `<p>${p}</p>`).join('')}</body></html>`), 'ok.html'],
      ] as const) {
        expect((await send(bytes, name)).status, name).toBe(201);
      }
    });
  },
  { IMPORT_MAX_ELEMENTS: '1000', IMPORT_MAX_DEPTH: '32', IMPORT_MAX_INFLATED_BYTES: String(1024 * 1024), IMPORT_WORKER_MEMORY_MB: '64' },
);
