/**
 * The real entry point as a process: start on an empty data directory with no configuration,
 * refuse production without secrets, and shut down gracefully on SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { captureOutput, textSource } from '../support/captured-output.js';
import { tempDir } from '../support/temp-dirs.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Every child started here, killed after the file in case a failed test left one running. */
const children = new Set<ChildProcess>();
afterAll(() => children.forEach((child) => child.kill('SIGKILL')));

function start(env: Record<string, string>): { child: ChildProcess; output: () => string; url: Promise<string> } {
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TMPDIR: tempDir('chimera-p-tmp-'), PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk;
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (out += c));
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
  url.catch(() => {}); // a test that expects the process to exit does not await the URL
  captureOutput(textSource(`server process ${child.pid} output`, () => out));
  return { child, output: () => out, url };
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

describe('server process', () => {
  it('refuses to start in production without secrets, with a clear message', async () => {
    const { child, output } = start({ NODE_ENV: 'production', DATA_DIR: tempDir('chimera-p-') });
    expect(await exited(child)).toBe(78);
    expect(output()).toMatch(/Refusing to start in production without JWT_SECRET and ENCRYPTION_KEY/);
  }, 60_000);

  it('starts with no configuration on the embedded database, then drains in-flight requests on SIGTERM', async () => {
    const dataDir = tempDir('chimera-p-');
    // A high bcrypt cost makes register take long enough to be in flight when SIGTERM arrives.
    const { child, url } = start({ DATA_DIR: dataDir, BCRYPT_COST: '13', LOG_LEVEL: 'info' });
    const base = await url;
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect((await health.json()).data.storage).toBe('pglite');

    const inFlight = fetch(`${base}/auth/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Late', email: 'late@example.test', password: 'password123' }),
    });
    await new Promise((r) => setTimeout(r, 150));
    const exit = exited(child);
    child.kill('SIGTERM');
    const res = await inFlight;
    expect(res.status).toBe(201);
    // Draining: the client is told not to reuse the connection for a next request.
    expect(res.headers.get('connection')).toBe('close');
    expect(await exit).toBe(0);
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  }, 120_000);

  it('a second process on the same PGlite data directory refuses to start, naming it; a SIGKILLed owner does not block the next start', async () => {
    const dataDir = tempDir('chimera-p-');
    const first = start({ DATA_DIR: dataDir });
    const base = await first.url;
    const body = JSON.stringify({ name: 'Kept', email: 'kept@example.test', password: 'password123' });
    const registered = await fetch(`${base}/auth/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    expect(registered.status).toBe(201);

    const second = start({ DATA_DIR: dataDir });
    // Its exit code, or 'listening' when it started as well (the failure this test is about).
    const outcome = await Promise.race([exited(second.child), second.url.then(() => 'listening', () => new Promise<never>(() => {}))]);
    expect(outcome).toBe(1);
    expect(second.output()).toContain(`The PGlite data directory ${join(dataDir, 'pglite')} is in use by another Chimera API process (pid ${first.child.pid}`);
    expect(second.output()).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect((await fetch(`${base}/health`)).status).toBe(200);

    // A crash leaves the lock behind; the next start sees its owner gone and takes over, with the data.
    const firstExit = exited(first.child);
    first.child.kill('SIGKILL');
    await firstExit;
    const third = start({ DATA_DIR: dataDir });
    const thirdBase = await third.url;
    const login = await fetch(`${thirdBase}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    expect(login.status).toBe(200);
    const thirdExit = exited(third.child);
    third.child.kill('SIGTERM');
    expect(await thirdExit).toBe(0);
    // A clean stop removes the lock.
    expect(readdirSync(dataDir).filter((f) => f.includes('lock'))).toEqual([]);
  }, 120_000);
});
