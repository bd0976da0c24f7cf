/**
 * A client generated from openapi.yaml (openapi-typescript types, openapi-fetch calls) compiles
 * under strict TypeScript and drives a running server: register → create a workspace → create
 * a memory → search. A field the document names wrongly fails the compile; a shape it
 * describes wrongly fails the response check every test runs.
 */
import { execFile } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { tempDir } from '../support/temp-dirs.js';

const root = new URL('../..', import.meta.url);

// Written as a user of the generated client would: every path, parameter and field is checked by the compiler.
const JOURNEY = `import createClient from 'openapi-fetch';
import type { paths } from './chimera-api.js';

export async function journey(baseUrl: string, email: string) {
  const api = createClient<paths>({ baseUrl });
  const registered = await api.POST('/api/auth/register', { body: { name: 'Typed Client', email, password: 'a long enough password' } });
  if (!registered.data) throw new Error('register failed: ' + JSON.stringify(registered.error));
  const { token, user } = registered.data.data;
  const headers = { Authorization: 'Bearer ' + token };

  const workspace = await api.POST('/api/workspaces', { headers, body: { name: 'Typed workspace', description: 'made by the generated client' } });
  if (!workspace.data) throw new Error('create workspace failed: ' + JSON.stringify(workspace.error));
  const workspaceId: string = workspace.data.data.id;

  const memory = await api.POST('/api/workspaces/{workspaceId}/memories', {
    headers,
    params: { path: { workspaceId } },
    body: { title: 'Launch plan', content: 'We launch the rocket on Friday after the final review.', tags: ['launch'], metadata: { source: 'typed-client' } },
  });
  if (!memory.data) throw new Error('create memory failed: ' + JSON.stringify(memory.error));

  const found = await api.POST('/api/memories/search', { headers, body: { query: 'rocket launch', workspaceId, top_k: 5 } });
  if (!found.data) throw new Error('search failed: ' + JSON.stringify(found.error));
  return {
    email: user.email,
    workspace: workspace.data.data.name,
    memory: { id: memory.data.data.id, status: memory.data.data.embeddingStatus },
    mode: found.data.data.mode,
    results: found.data.data.results.map((hit) => ({ id: hit.id, workspace: hit.workspace_id })),
  };
}
`;

describe('a client generated from openapi.yaml', () => {
  let app: TestApp;
  let dir: string;
  beforeAll(async () => {
    app = await startTestApp('pglite');
    dir = tempDir('chimera-typed-client-');
    // The generated module and the journey resolve openapi-fetch from the project.
    symlinkSync(new URL('node_modules', root).pathname, join(dir, 'node_modules'), 'dir');
    writeFileSync(join(dir, 'chimera-api.ts'), astToString(await openapiTS(new URL('openapi.yaml', root))));
    writeFileSync(join(dir, 'journey.ts'), JOURNEY);
  });
  afterAll(() => app.close());

  it('compiles under strict TypeScript', async () => {
    const tsc = new URL('node_modules/.bin/tsc', root).pathname;
    const options = ['--noEmit', '--strict', '--noUncheckedIndexedAccess', '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--skipLibCheck'];
    const run = await promisify(execFile)(tsc, [...options, 'journey.ts'], { cwd: dir }).catch((error: { stdout: string }) => error);
    expect(run.stdout).toBe('');
  });

  it('registers, creates a workspace and a memory, and finds it', async () => {
    const { journey } = (await import(pathToFileURL(join(dir, 'journey.ts')).href)) as { journey: (baseUrl: string, email: string) => Promise<unknown> };
    const baseUrl = app.http.get('/').url.replace(/\/$/, '');
    const result = (await journey(baseUrl, 'typed.client@example.com')) as { memory: { id: string }; results: { id: string }[] };
    expect(result).toMatchObject({ email: 'typed.client@example.com', workspace: 'Typed workspace', mode: expect.stringMatching(/^(hybrid|lexical)$/) });
    expect(result.results.map((r) => r.id)).toEqual([result.memory.id]);
  });
});
