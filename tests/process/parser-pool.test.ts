/**
 * The document parser pool inside the real server process (src/server.ts): its warm parser
 * processes are forked before the server listens, a parser a document left large is replaced
 * once the pool is idle, and a spawner process that dies is replaced, the next import served.
 * The pool's own rules, one by one, are in tests/unit/document-parsing.test.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDocx } from '../support/documents.js';
import { MiB, wordBombDocx } from '../support/hostile-documents.js';
import { type ProcessSession, registerOn, type ServerProcess, spawnServer, waitFor } from '../support/processes.js';

const WORKERS = 2;

/** Live (not zombie) child processes of `pid`, each with its command line. */
function childrenOf(pid: number): { pid: number; cmdline: string }[] {
  const pids = readdirSync(`/proc/${pid}/task`).flatMap((task) => {
    try {
      return readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return []; // the thread ended while listing
    }
  });
  return pids.flatMap((child) => {
    try {
      if (readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1]!.startsWith('Z')) return [];
      return [{ pid: child, cmdline: readFileSync(`/proc/${child}/cmdline`, 'utf8').replaceAll('\0', ' ') }];
    } catch {
      return [];
    }
  });
}

/** The server's spawner process and the parser processes it forked. */
function parserTree(server: ServerProcess): { spawner: number | null; parsers: number[] } {
  const spawner = childrenOf(server.child.pid!).find((c) => c.cmdline.includes('process-pool-spawner-entry'));
  if (!spawner) return { spawner: null, parsers: [] };
  return { spawner: spawner.pid, parsers: childrenOf(spawner.pid).filter((c) => c.cmdline.includes('parse-child')).map((c) => c.pid).sort() };
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');

describe('parser pool in the server process', () => {
  let server: ServerProcess;
  let session: ProcessSession;

  beforeAll(async () => {
    server = await spawnServer({ IMPORT_WORKERS: String(WORKERS) });
    session = await registerOn(server, 'parser-pool');
  });
  afterAll(() => server?.stop(10_000));

  function importFile(name: string, bytes: Buffer) {
    const form = new FormData();
    form.append('summarize', 'false');
    form.append('file', new Blob([new Uint8Array(bytes)]), name);
    return server.request('POST', `/api/workspaces/${session.workspaceId}/memories/import-file`, { body: form, token: session.token, timeoutMs: 60_000 });
  }
  const smallDocx = () => buildDocx(['Tidal turbines sit on the sea bed of narrow estuaries.', 'Their output is predictable years ahead.']);

  it('forks the warm parser processes before it listens: the pids it logged before listening are its parsers', async () => {
    const lines = server.output().split('\n');
    const started = lines.findIndex((line) => line.includes('document parser processes started'));
    const listening = lines.findIndex((line) => line.includes('Chimera API listening'));
    expect(started).toBeGreaterThanOrEqual(0);
    expect(started).toBeLessThan(listening);
    const logged = (JSON.parse(lines[started]!) as { pids: number[] }).pids;
    expect(logged).toHaveLength(WORKERS);
    // No document has been parsed yet: the processes forked before listening are the ones running.
    expect(parserTree(server).parsers).toEqual([...logged].sort());
  });

  it('runs on a data directory (PGlite) and a temporary directory (uploads) of its own, which no other test file shares', async () => {
    const env = Object.fromEntries(
      readFileSync(`/proc/${server.child.pid}/environ`, 'utf8').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    expect(dirname(env.DATA_DIR!)).toBe(tmpdir());
    expect(basename(env.DATA_DIR!)).toMatch(/^chimera-proc-\w{6}$/);
    expect(dirname(env.TMPDIR!)).toBe(tmpdir());
    expect(basename(env.TMPDIR!)).toMatch(/^chimera-proc-tmp-\w{6}$/);
    // An upload is written under it while it is parsed, and removed once answered.
    const uploads = () => readdirSync(env.TMPDIR!).filter((name) => name.startsWith('chimera-upload-'));
    expect((await importFile('plan.docx', smallDocx())).status).toBe(201);
    await waitFor('the upload removed', () => uploads().length === 0, 5000);
  });

  it('replaces a parser that a document grew past its bound once the pool is idle; the other stays', async () => {
    const before = await waitFor('the warm parsers', () => {
      const tree = parserTree(server);
      return tree.parsers.length === WORKERS && tree.parsers;
    });
    // 20 MiB of paragraphs, refused for its element count after the parser inflated and scanned it.
    const res = await importFile('bomb.docx', wordBombDocx(20 * MiB));
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    const after = await waitFor('the grown parser replaced', () => {
      const tree = parserTree(server);
      return tree.parsers.length === WORKERS && tree.parsers.some((pid) => !before.includes(pid)) && tree.parsers;
    });
    expect(after.filter((pid) => before.includes(pid))).toHaveLength(WORKERS - 1);
    expect((await importFile('plan.docx', smallDocx())).status).toBe(201);
  });

  it('replaces a killed spawner: its parsers end, new ones start, and the next import works', async () => {
    const old = await waitFor('the spawner and its parsers', () => {
      const tree = parserTree(server);
      return tree.spawner !== null && tree.parsers.length === WORKERS ? tree : undefined;
    });
    process.kill(old.spawner!, 'SIGKILL');
    // A parser busy in a parse would never notice its parent gone: the server kills them by pid.
    await waitFor('the old parsers gone', () => old.parsers.every((pid) => !alive(pid)));
    const renewed = await waitFor('a new spawner with warm parsers', () => {
      const tree = parserTree(server);
      return tree.spawner !== null && tree.spawner !== old.spawner && tree.parsers.length === WORKERS ? tree : undefined;
    });
    expect(renewed.parsers.some((pid) => old.parsers.includes(pid))).toBe(false);
    const res = await importFile('plan.docx', smallDocx());
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.data.memory.content).toContain('Tidal turbines');
    expect(server.child.exitCode).toBeNull();
  });
}, 120_000);
