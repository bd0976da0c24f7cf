/**
 * The database handle: a Prisma client over PostgreSQL (node-postgres pool) or over an
 * embedded PGlite database, with the same schema and migrations on both.
 */
import { mkdirSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
// The drivers of each storage are loaded by openDatabase: a server on PGlite never loads pg, one
// on PostgreSQL never loads PGlite.
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import type { Config } from '../config/env.js';
import { PrismaClient } from '../generated/prisma/client.js';
import { lockDataDir } from './data-dir-lock.js';
import { CopyOutError, CopyOutSocket, copyOutOnSocket } from './copy-out.js';
import { applyMigrations, type SqlRunner } from './migrations.js';
import { initialiseDataDir } from './pglite-template.js';
import { ConnectionWatchdog } from './watchdog.js';

export type { PrismaClient };

/**
 * Runs a statement that yields one value (a JSON-building fragment, the form a route's
 * preload takes) on its own, as a prepared statement under `name`.
 */
export async function queryValue<T>(db: Pick<Database, 'query'>, statement: { text: string; values: unknown[] }, name: string): Promise<T> {
  const rows = await db.query<{ value: T }>(`SELECT (${statement.text}) AS value`, statement.values, name);
  return rows[0]!.value;
}
export type StorageKind = 'pglite' | 'postgres';

/**
 * The embedded database's memory settings: it lives in this process, so its buffers are our
 * RSS. PostgreSQL's defaults (shared_buffers 128 MB) suit a server of its own; a single-user
 * embedded bank is served from the OS page cache just as well. Measured: idle RSS −110 MB.
 */
export const PGLITE_SETTINGS = ['-c', 'shared_buffers=16MB', '-c', 'work_mem=4MB', '-c', 'maintenance_work_mem=64MB', '-c', 'temp_buffers=2MB', '-c', 'wal_buffers=1MB'];

export interface Database {
  kind: StorageKind;
  prisma: PrismaClient;
  /**
   * A plain parameterised query on the same connections, for the hottest paths (the
   * per-request authentication lookup), where Prisma's per-query overhead would dominate.
   * A `name` makes it a prepared statement on PostgreSQL (parsed and planned once per
   * connection); the same name must always carry the same SQL text.
   */
  query<T>(sql: string, params?: unknown[], name?: string): Promise<T[]>;
  /**
   * The raw output of `COPY (select) TO STDOUT (FORMAT binary)`, handed to `onData` in chunks as
   * they arrive, each valid only during the call (the receive buffers are reused): bulk reads of
   * bytea (see copy-binary.ts). `select` takes no parameters.
   */
  copyBinary(select: string, onData: (chunk: Uint8Array) => void): Promise<void>;
  /**
   * PGlite only: `COPY table (columns) FROM` binary COPY data (encodeCopyBinary) in this
   * process, with no text form on the way (the embedded database parses large text parameters
   * slowly: bench `vector-index`, pgvector fill). Undefined on PostgreSQL.
   */
  copyIn?(table: string, columns: string[], data: Uint8Array<ArrayBuffer>): Promise<void>;
  /** Round-trip time of a trivial query in milliseconds; throws when unreachable. */
  ping(): Promise<number>;
  /** Applies pending migrations; returns the names applied. */
  migrate(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * Told the text of every statement sent to the database on the request connections (not the
 * side connection of health pings and migrations), as the driver sends it: tests count the
 * statements a request costs with it.
 */
export type StatementObserver = (sql: string) => void;

export type DatabaseOptions =
  | { kind: 'pglite'; dir: string | null; /** an already opened PGlite (tests) */ instance?: PGlite; onStatement?: StatementObserver; /** told when the data directory could not be initialised from the template */ onInitError?: (error: unknown) => void }
  | { kind: 'postgres'; url: string; poolSize?: number; timeoutMs?: number; onStatement?: StatementObserver };

export function databaseOptionsFrom(config: Config): DatabaseOptions {
  return config.database.kind === 'postgres'
    ? { kind: 'postgres', url: config.database.url, poolSize: config.databasePoolSize, timeoutMs: config.databaseTimeoutMs }
    : { kind: 'pglite', dir: config.database.dir };
}

function pgliteRunner(db: PGlite): SqlRunner {
  return {
    query: async <T>(sql: string, params?: unknown[]) => ({ rows: (await db.query<T>(sql, params)).rows }),
    exec: async (sql: string) => {
      await db.exec(sql);
    },
  };
}

function pgRunner(client: pg.ClientBase): SqlRunner {
  return {
    query: async <T>(sql: string, params?: unknown[]) => ({ rows: (await client.query(sql, params)).rows as T[] }),
    exec: async (sql: string) => {
      await client.query(sql);
    },
  };
}

/**
 * Reports each statement PGlite receives: a Parse message (the extended protocol, one per
 * query) or a Query message (the simple protocol: exec, BEGIN, COMMIT). Every message of
 * either path goes through `execProtocolStream`.
 */
function observePglite(lite: PGlite, onStatement: StatementObserver): void {
  const send = lite.execProtocolStream.bind(lite);
  const decoder = new TextDecoder();
  lite.execProtocolStream = (message, options) => {
    const type = String.fromCharCode(message[0] ?? 0);
    if (type === 'P' || type === 'Q') {
      // Parse: type, length, statement name, query text; Query: type, length, query text (C strings).
      let start = 5;
      if (type === 'P') start = message.indexOf(0, start) + 1;
      onStatement(decoder.decode(message.subarray(start, message.indexOf(0, start))));
    }
    return send(message, options);
  };
}

/** A pg client class that reports every query it is given before sending it. */
function observedClient(pg: typeof import('pg').default, onStatement: StatementObserver): typeof pg.Client {
  const send = pg.Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown;
  class ObservedClient extends pg.Client {}
  // Every overload of query takes the text, or a config holding it, first.
  ObservedClient.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const [first] = args;
    onStatement(typeof first === 'string' ? first : String((first as { text?: unknown }).text));
    return send.apply(this, args);
  } as pg.Client['query'];
  return ObservedClient;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return Math.round((performance.now() - start) * 100) / 100;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.kind === 'pglite') {
    if (options.dir) mkdirSync(options.dir, { recursive: true });
    // One process per data directory: a second one would silently diverge from the first.
    const lock = options.dir && !options.instance ? lockDataDir(options.dir) : null;
    let lite: PGlite;
    try {
      // A new database is a copy of a template made by initdb in another process: see pglite-template.ts.
      if (options.dir && !options.instance) {
        await initialiseDataDir(options.dir).catch((error: unknown) => {
          // PGlite runs initdb itself below: slower and larger, but the server starts.
          options.onInitError?.(error);
        });
      }
      // The options-object form: given a separate data directory argument, PGlite loads no extension.
      const { PGlite } = await import('@electric-sql/pglite');
      const { vector } = await import('@electric-sql/pglite/vector');
      lite = options.instance ?? (await PGlite.create({ dataDir: options.dir ?? undefined, extensions: { vector }, startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS] }));
    } catch (error) {
      lock?.release();
      throw error;
    }
    if (options.onStatement) observePglite(lite, options.onStatement);
    const { PrismaPGlite } = await import('pglite-prisma-adapter');
    const prisma = new PrismaClient({ adapter: new PrismaPGlite(lite) });
    return {
      kind: 'pglite',
      prisma,
      query: async <T>(sql: string, params?: unknown[]) => (await lite.query<T>(sql, params)).rows,
      copyBinary: async (select: string, onData: (chunk: Uint8Array) => void) => {
        // PGlite has no client stream: COPY writes to its in-memory blob device.
        const { blob } = await lite.query(`COPY (${select}) TO '/dev/blob' WITH (FORMAT binary)`);
        if (blob) onData(new Uint8Array(await blob.arrayBuffer()));
      },
      copyIn: async (table: string, columns: string[], data: Uint8Array<ArrayBuffer>) => {
        await lite.query(`COPY ${table} (${columns.join(', ')}) FROM '/dev/blob' WITH (FORMAT binary)`, [], { blob: new Blob([data]) });
      },
      ping: () => timed(() => lite.query('SELECT 1')),
      migrate: () => applyMigrations(pgliteRunner(lite)),
      close: async () => {
        await prisma.$disconnect();
        if (!lite.closed) await lite.close();
        lock?.release();
      },
    };
  }
  const { default: pg } = await import('pg');
  const { PrismaPg } = await import('@prisma/adapter-pg');
  const timeoutMs = options.timeoutMs ?? 5000;
  // A database that stops answering without closing its connections (frozen host, partition)
  // fails the waiting queries after about `timeoutMs` instead of the query timeout below.
  const watchdog = new ConnectionWatchdog(timeoutMs, async () => {
    const probe = new pg.Client({ connectionString: options.url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.query('SELECT 1');
    } finally {
      void probe.end().catch(() => {});
    }
  });
  const poolConfig = {
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: timeoutMs,
    // The last resort for a query that never ends; the watchdog acts long before on a dead server.
    query_timeout: Math.max(timeoutMs * 6, 30_000),
    keepAlive: true,
    stream: watchdog.stream,
  };
  const pool = new pg.Pool({ ...poolConfig, ...(options.onStatement && { Client: observedClient(pg, options.onStatement) }) });
  pool.on('error', () => {}); // an idle client losing its server must not crash the process
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  // Connections for COPY (the cold loads of the vector index), their sockets read straight off
  // (copy-out.ts), kept idle a while: a connection costs a handshake and authentication, 9 ms
  // here against a 10,000-chunk load of about 50. node-postgres calls its stream factory with the
  // connection's settings (its types omit them): TLS wraps the socket, so only a plain
  // connection reads into a reused buffer.
  const copyOutStream = ((config: { ssl?: unknown }) => (config.ssl ? new Socket() : new CopyOutSocket())) as unknown as () => Duplex;
  const copyPool = new pg.Pool({ connectionString: options.url, connectionTimeoutMillis: timeoutMs, max: 4, idleTimeoutMillis: 10_000, stream: copyOutStream });
  copyPool.on('error', () => {}); // an idle client losing its server must not crash the process
  // A separate connection for health pings and migrations, so they never queue behind requests.
  const side = new pg.Pool({ ...poolConfig, max: 1 });
  side.on('error', () => {}); // an idle client losing its server must not crash the process
  return {
    kind: 'postgres',
    prisma,
    query: async <T>(sql: string, params?: unknown[], name?: string) =>
      (await pool.query(name ? { name, text: sql, values: params } : { text: sql, values: params })).rows as T[],
    copyBinary: async (select: string, onData: (chunk: Uint8Array) => void) => {
      const client = await copyPool.connect();
      let broken: Error | undefined;
      try {
        await copyOutOnSocket((client as unknown as { connection: { stream: Duplex } }).connection.stream, `COPY (${select}) TO STDOUT (FORMAT binary)`, onData);
      } catch (error) {
        // PostgreSQL's own error leaves the connection ready for the next statement; any other, not.
        if (!(error instanceof CopyOutError)) broken = error instanceof Error ? error : new Error(String(error));
        throw error;
      } finally {
        client.release(broken);
      }
    },
    ping: () => timed(() => side.query('SELECT 1')),
    migrate: async () => {
      const client = await side.connect();
      try {
        return await applyMigrations(pgRunner(client));
      } finally {
        client.release();
      }
    },
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
      await side.end();
      await copyPool.end();
      watchdog.close();
    },
  };
}
