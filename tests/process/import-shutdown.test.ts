/**
 * Shutdown while a document is being parsed: the parse runs in a parser process, so the
 * server's loop sees SIGTERM at once, and at the end of the grace period the parse is given
 * up (its import answered 503) instead of holding the process.
 */
import { expect, it } from 'vitest';
import { buildDocx } from '../support/documents.js';
import { spawnServer } from '../support/processes.js';

it('SIGTERM during a long parse ends the process after the grace period; the import gets a 503', async () => {
  const server = await spawnServer({ SHUTDOWN_GRACE: '1s', IMPORT_PARSE_TIMEOUT: '120s', IMPORT_WORKER_MEMORY_MB: '2048', IMPORT_MAX_ELEMENTS: '2000000' });
  try {
    const registered = await server.request('POST', '/api/auth/register', { body: { name: 'Parser', email: 'parser@example.test', password: 'correct horse battery' } });
    const token = registered.body.data.token as string;
    const workspaces = await server.request('GET', '/api/workspaces', { token });
    const workspaceId = (workspaces.body.data.workspaces ?? workspaces.body.data)[0].id as string;
    // 600,000 elements: seconds of mammoth in a parser started with the server, far longer than the grace period.
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(buildDocx(Array.from({ length: 200_000 }, (_, i) => `p${i}`)))]), 'long.docx');
    const upload = fetch(`${server.origin}/api/workspaces/${workspaceId}/memories/import-file`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: form });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    server.child.kill('SIGTERM');
    const res = await upload;
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ok: false, data: null, error: 'Server is shutting down' });
    expect(await server.exited).toBe(0);
  } finally {
    await server.stop(5000);
  }
}, 120_000);
