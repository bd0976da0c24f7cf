/**
 * Imports and export: a 5 MB PDF and a 5 MB DOCX through M9, and S6 over 50,000 memories.
 * Time per request and the server's peak RSS (VmHWM, reset before each step through
 * /proc/<pid>/clear_refs) against its resident size just before the step.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { buildDocx, buildPdf } from '../../tests/support/documents.js';
import { fmt, freshPostgresDatabase, startServer, table } from '../lib.js';

const MB = 1024 * 1024;

function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Runs `step` and reports its duration and how far the server's RSS peaked above its starting point. */
async function measure(pid: number, step: () => Promise<void>) {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
  const before = memoryOf(pid);
  const started = performance.now();
  await step();
  const ms = performance.now() - started;
  const after = memoryOf(pid);
  return { ms, rssBefore: before.rss, peak: after.peak, growth: after.peak - before.rss };
}

const WORDS = 'alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega orbit vector signal quartz ember lattice prism cobalt fjord'.split(' ');
function prose(seed: number, words: number): string {
  let x = seed;
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push(`${WORDS[x % WORDS.length]}${(x >> 8) % 997}`);
  }
  return out.join(' ');
}

function pdfOf(bytes: number): Buffer {
  const pages: string[][] = [];
  let size = 0;
  for (let p = 0; size < bytes; p++) {
    const lines = Array.from({ length: 55 }, (_, i) => prose(p * 100 + i, 12));
    size += lines.reduce((n, l) => n + l.length + 12, 120);
    pages.push(lines);
  }
  return buildPdf(pages);
}

function docxOf(bytes: number): Buffer {
  let paragraphs = 4000;
  for (;;) {
    const docx = buildDocx(Array.from({ length: paragraphs }, (_, i) => prose(i, 40)));
    if (docx.length >= bytes) return docx;
    paragraphs = Math.ceil(paragraphs * (bytes / docx.length) * 1.02);
  }
}

export default async function run() {
  const database = await freshPostgresDatabase('imports');
  const server = await startServer({ DATABASE_URL: database.url }, 18_517);
  const pid = server.process.pid!;
  try {
    const reg = await fetch(`${server.url}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Bench', email: `bench-${Date.now()}@example.test`, password: 'bench password' }),
    }).then((r) => r.json() as Promise<{ data: { token: string; user: { id: string } } }>);
    const auth = { authorization: `Bearer ${reg.data.token}` };
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    const { rows } = await db.query('SELECT id FROM workspaces WHERE owner_id = $1', [reg.data.user.id]);
    const workspaceId = rows[0].id as string;

    const results: Record<string, string | number>[] = [];
    const upload = async (label: string, bytes: Buffer, name: string, type: string) => {
      let status = 0;
      const m = await measure(pid, async () => {
        const form = new FormData();
        form.set('file', new Blob([new Uint8Array(bytes)], { type }), name);
        const res = await fetch(`${server.url}/api/workspaces/${workspaceId}/memories/import-file`, { method: 'POST', headers: auth, body: form });
        status = res.status;
        await res.arrayBuffer();
      });
      results.push({ step: label, input: `${fmt(bytes.length / MB, 2)} MB`, status, 'time ms': Math.round(m.ms), 'RSS before MB': fmt(m.rssBefore / MB), 'peak RSS MB': fmt(m.peak / MB), 'peak growth MB': fmt(m.growth / MB) });
    };
    // 50,000 memories of ~600 characters, written straight into the database.
    await db.query(
      `INSERT INTO memories (id, workspace_id, title, content, snippet, tags, metadata, updated_at)
       SELECT 'memory-' || lpad(to_hex(g), 12, '0'), $1, 'Bench memory ' || g, repeat('benchmark content ' || g || ' ', 25), 'snippet ' || g,
              ARRAY['bench','t' || (g % 10)], '{"source":"bench"}'::jsonb, now()
       FROM generate_series(1, 50000) AS g`,
      [workspaceId],
    );
    await db.end();
    let exported = 0;
    const exportRun = await measure(pid, async () => {
      const res = await fetch(`${server.url}/api/export`, { headers: auth });
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        exported += value.length;
      }
    });
    results.push({ step: 'export 50,000 memories', input: `${fmt(exported / MB, 1)} MB out`, status: 200, 'time ms': Math.round(exportRun.ms), 'RSS before MB': fmt(exportRun.rssBefore / MB), 'peak RSS MB': fmt(exportRun.peak / MB), 'peak growth MB': fmt(exportRun.growth / MB) });
    // Imports run after the export so the export's memory is measured on a fresh server.
    await upload('import 5 MB PDF', pdfOf(5 * MB), 'bench.pdf', 'application/pdf');
    await upload('import 5 MB DOCX', docxOf(5 * MB), 'bench.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document');

    table(results);
    console.log(`export RSS growth target ≤ 100 MB: ${exportRun.growth / MB <= 100 ? 'met' : 'MISSED'} (${fmt(exportRun.growth / MB)} MB)`);
  } finally {
    await server.stop();
    await database.drop();
  }
}
