/**
 * Real server processes and network faults for the reliability suite (and anything else that
 * needs the server as an operator runs it):
 *
 *   spawnServer(env)        starts `src/server.ts` (the `npm start` entry) as a child process on a
 *                           random free port (PORT=0; the port is read from its "listening" log
 *                           line), captures its stdout/stderr, and waits until /api/health is 200.
 *                           `server.request()` is a small fetch wrapper that measures latency and
 *                           never throws on HTTP errors; `server.stop()` sends SIGTERM and waits.
 *   startTcpProxy(target)   a TCP proxy on 127.0.0.1 and a random port in front of e.g. PostgreSQL.
 *                           `cut()` destroys every open connection and refuses new ones (a stopped
 *                           database); `cut('blackhole')` keeps connections open but forwards
 *                           nothing (a partition or a frozen host); `restore()` forwards again.
 *   scratchDatabase()       a throwaway database on the local PostgreSQL (dropped by `drop()`),
 *                           with helpers to point a server (directly or through a proxy) at it.
 *
 * Everything listens on 127.0.0.1 only, on ports chosen by the kernel, so several suites (and
 * several engineers) can run servers side by side.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { TEST_ENV } from './app.js';
import { captureOutput, textSource } from './captured-output.js';
import { createScratchPostgres } from './db.js';
import { tempDir } from './temp-dirs.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface HttpResult {
  status: number;
  /** Parsed JSON body, or the text when it is not JSON; null for a network error. */
  body: any;
  headers: Headers | null;
  /** Wall time of the request in milliseconds. */
  ms: number;
  /** Set when the request failed below HTTP (refused, reset, aborted by the timeout). */
  error?: string;
}

export interface RequestOptions {
  /** JSON (an object or a string sent as it is), or FormData sent as multipart. */
  body?: unknown;
  /** Bearer token. */
  token?: string;
  headers?: Record<string, string>;
  /** Client-side deadline; the result has `error: 'timeout'` when it passes. Default 30 s. */
  timeoutMs?: number;
}

export interface ServerProcess {
  /** e.g. http://127.0.0.1:43125 */
  origin: string;
  port: number;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** The JSON log lines written so far (non-JSON lines are skipped). */
  logLines(): Record<string, any>[];
  /** Resolves with the exit code (or null when killed by a signal) once the process exits. */
  exited: Promise<number | null>;
  /** `path` starts with /api/…; never throws for HTTP statuses. */
  request(method: string, path: string, options?: RequestOptions): Promise<HttpResult>;
  /** SIGTERM, then the exit code (SIGKILL after `killAfterMs`, default 30 s). */
  stop(killAfterMs?: number): Promise<number | null>;
}

export interface SpawnOptions {
  /** Data directory (secrets, PGlite); by default a fresh temporary one, removed after the test file (the process's TMPDIR is always one of its own). */
  dataDir?: string;
  /** How long to wait for the first healthy answer. Default 60 s. */
  readyTimeoutMs?: number;
  /** Skip waiting for /api/health to answer 200 (e.g. a database that is down on purpose). */
  waitHealthy?: boolean;
}

/** A development-like environment with fixed secrets (so several instances share tokens) and fast hashing. */
export const SERVER_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  JWT_SECRET: TEST_ENV.JWT_SECRET!,
  ENCRYPTION_KEY: TEST_ENV.ENCRYPTION_KEY!,
  BCRYPT_COST: '4',
  LOG_LEVEL: 'info',
  AUTH_RATE_LIMIT_PER_IP: '1000000',
  AUTH_RATE_LIMIT_PER_EMAIL: '1000000',
};

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Starts the real server entry as a child process. `env` is merged over SERVER_ENV and a
 * minimal inherited environment (PATH, HOME); HOST is always 127.0.0.1 and PORT 0.
 * LOG_LEVEL must stay at `info` or below: the port is read from the "listening" log line.
 */
export async function spawnServer(env: Record<string, string> = {}, options: SpawnOptions = {}): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? tempDir('chimera-proc-');
  // Its uploads in a temporary directory of its own, removed after the file even if the process was killed mid-upload.
  const tmp = tempDir('chimera-proc-tmp-');
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TMPDIR: tmp, DATA_DIR: dataDir, ...SERVER_ENV, ...env, HOST: '127.0.0.1', PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  // Its log is printed only when a test fails (and stays in `output()`).
  captureOutput(textSource(`server process ${child.pid} output`, () => out));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  const origin = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not listen within ${options.readyTimeoutMs ?? 60_000} ms:\n${out}`)), options.readyTimeoutMs ?? 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)\/api"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}`));
    });
  });
  const request = (method: string, path: string, opts: RequestOptions = {}) => httpRequest(origin, method, path, opts);
  const server: ServerProcess = {
    origin,
    port: Number(new URL(origin).port),
    child,
    output: () => out,
    logLines: () =>
      out
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as Record<string, any>];
          } catch {
            return [];
          }
        }),
    exited,
    request,
    stop: async (killAfterMs = 30_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const kill = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      child.kill('SIGTERM');
      const code = await exited;
      clearTimeout(kill);
      return code;
    },
  };
  if (options.waitHealthy !== false) {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
    for (;;) {
      const health = await request('GET', '/api/health', { timeoutMs: 5000 });
      if (health.status === 200) break;
      if (Date.now() > deadline) {
        await server.stop(1000);
        throw new Error(`server not healthy in time (last ${health.status}):\n${out}`);
      }
      await sleep(50);
    }
  }
  return server;
}

export async function httpRequest(origin: string, method: string, path: string, options: RequestOptions = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  let payload: string | FormData | undefined;
  // A FormData body goes as multipart, its boundary set by fetch.
  if (options.body instanceof FormData) payload = options.body;
  else if (options.body !== undefined) {
    headers['Content-Type'] ??= 'application/json';
    payload = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  try {
    const res = await fetch(`${origin}${path}`, { method, headers, body: payload, signal: AbortSignal.timeout(options.timeoutMs ?? 30_000) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body, headers: res.headers, ms: elapsed() };
  } catch (error) {
    const e = error as Error & { cause?: { code?: string } };
    const reason = e.name === 'TimeoutError' ? 'timeout' : (e.cause?.code ?? e.message);
    return { status: 0, body: null, headers: null, ms: elapsed(), error: reason };
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it returns a truthy value or `timeoutMs` passes (then throws). */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export type CutMode = 'refuse' | 'blackhole';

export interface TcpProxy {
  port: number;
  /** Connections accepted since the start (including refused ones). */
  accepted: number;
  /** Connections currently forwarded. */
  open(): number;
  state(): 'forwarding' | CutMode;
  /**
   * `refuse` (default): every open connection is reset and new ones are reset on accept, as
   * when the database process is stopped. `blackhole`: connections stay open but nothing is
   * forwarded either way, and new ones are accepted and never answered, as in a partition.
   */
  cut(mode?: CutMode): void;
  /** Forwards again (connections held in a blackhole are dropped: their streams are broken). */
  restore(): void;
  close(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1:<random> forwarding to `target` (e.g. { host: '127.0.0.1', port: 5432 }). */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: 'forwarding' | CutMode = 'forwarding';
  const pairs = new Set<[Socket, Socket]>();
  const held = new Set<Socket>();
  const drop = (socket: Socket) => {
    socket.on('error', () => {});
    socket.resetAndDestroy();
  };
  const server: Server = createServer((client) => {
    proxy.accepted++;
    client.on('error', () => {});
    if (mode === 'refuse') return drop(client);
    if (mode === 'blackhole') {
      held.add(client);
      client.pause();
      client.once('close', () => held.delete(client));
      return;
    }
    const upstream = new Socket();
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const forget = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.once('close', forget);
    upstream.once('close', forget);
    upstream.connect(target.port, target.host, () => {
      client.pipe(upstream);
      upstream.pipe(client);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: TcpProxy = {
    port: (server.address() as { port: number }).port,
    accepted: 0,
    open: () => pairs.size,
    state: () => mode,
    cut: (how = 'refuse') => {
      mode = how;
      for (const pair of [...pairs]) {
        if (how === 'refuse') {
          pairs.delete(pair);
          pair.forEach(drop);
        } else {
          // Stop reading both ways: data sent by either side is never delivered.
          for (const s of pair) {
            s.unpipe();
            s.pause();
          }
          held.add(pair[0]);
          held.add(pair[1]);
          pairs.delete(pair);
        }
      }
    },
    restore: () => {
      mode = 'forwarding';
      for (const socket of [...held]) {
        held.delete(socket);
        drop(socket);
      }
    },
    close: async () => {
      proxy.cut('refuse');
      for (const socket of [...held]) drop(socket);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}

export interface ScratchDatabase {
  /** postgresql://… of the new database on the local server. */
  url: string;
  /** The same database reached through `proxy` (host 127.0.0.1, the proxy's port). */
  viaProxy(proxy: TcpProxy): string;
  drop(): Promise<void>;
}

/** A new empty database on the local PostgreSQL (the server migrates it at start). */
export async function scratchDatabase(): Promise<ScratchDatabase> {
  const scratch = await createScratchPostgres();
  return {
    url: scratch.url,
    viaProxy: (proxy) => {
      const u = new URL(scratch.url);
      u.hostname = '127.0.0.1';
      u.port = String(proxy.port);
      return u.toString();
    },
    drop: scratch.drop,
  };
}

/** Host and port of a postgresql:// URL, to put a proxy in front of it. */
export function pgTarget(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || 5432) };
}

export interface ProcessSession {
  token: string;
  refresh: string;
  user: { id: string; email: string; name: string };
  password: string;
  /** The account's default workspace. */
  workspaceId: string;
}

/** Registers a new account on a running server and finds its default workspace. */
export async function registerOn(server: Pick<ServerProcess, 'request'>, label = 'user'): Promise<ProcessSession> {
  const email = `${label}-${Math.random().toString(16).slice(2, 12)}@example.test`;
  const password = 'correct horse battery';
  const res = await server.request('POST', '/api/auth/register', { body: { name: label, email, password } });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  const { token, refresh, user } = res.body.data;
  const list = await server.request('GET', '/api/workspaces', { token });
  if (list.status !== 200) throw new Error(`workspace list failed: ${list.status} ${JSON.stringify(list.body)}`);
  return { token, refresh, user, password, workspaceId: list.body.data.workspaces[0].id };
}
