/**
 * Where a ProcessPool's children come from: a small process of its own, the spawner
 * (process-pool-spawner-entry.ts), forks them and relays their messages. The server forks
 * only the spawner, once, and never a child while it serves: forking copies the forking
 * process's page tables, and libuv's spawn waits until the child has started its program, so
 * a fork from a server of 0.4-1 GB held the request loop for 12-140 ms per child on a loaded
 * machine, every time a parser was killed at its deadline and replaced. The spawner is small,
 * so its forks are quick, and they hold its own loop, not the server's.
 *
 * If the spawner dies, its children are killed by pid and reported as exited; the next child
 * asked for starts a new spawner.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { childEntryPath } from './child-entry.js';

export type SpawnerRequest =
  | { op: 'spawn'; id: number; entry: string; execArgv: string[]; niceness: number }
  | { op: 'send'; id: number; message: unknown }
  | { op: 'kill'; id: number };

export type SpawnerEvent =
  | { op: 'spawned'; id: number; pid: number }
  | { op: 'message'; id: number; message: unknown }
  | { op: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null; stderr: string };

export interface ChildOptions {
  /** The file the child runs (already bundled, see child-entry.ts). */
  entry: string;
  execArgv: string[];
  /** Added to the spawner's nice value for the child. */
  niceness: number;
}

export interface ChildEvents {
  message(message: unknown): void;
  /** The child is gone; `stderr` is the end of what it wrote there. Called once. */
  exit(code: number | null, signal: NodeJS.Signals | null, stderr: string): void;
}

export interface SpawnedChild {
  /** Resolves once the spawner has forked the child (with its pid), or with null if it never started. */
  forked: Promise<number | null>;
  send(message: unknown): void;
  kill(): void;
}

interface Known {
  events: ChildEvents;
  pid: number | null;
  forked(pid: number | null): void;
}

export class Spawner {
  private process: ChildProcess | null = null;
  private entry: Promise<string> | null = null;
  private resolvedEntry = '';
  private readonly children = new Map<number, Known>();
  private nextId = 1;
  private referenced = false;

  /** Starts the spawner process, if it is not running. */
  async ready(): Promise<void> {
    this.entry ??= childEntryPath(new URL(`./process-pool-spawner-entry${import.meta.url.slice(import.meta.url.lastIndexOf('.'))}`, import.meta.url));
    this.resolvedEntry = await this.entry;
    this.process ??= this.startProcess();
  }

  /** A new child; `ready()` must have resolved once before. */
  spawn(options: ChildOptions, events: ChildEvents): SpawnedChild {
    const spawner = (this.process ??= this.startProcess());
    const id = this.nextId++;
    let forked = (_pid: number | null) => {};
    const started = new Promise<number | null>((resolve) => (forked = resolve));
    this.children.set(id, { events, pid: null, forked });
    this.request(spawner, { op: 'spawn', id, ...options });
    return {
      forked: started,
      send: (message) => this.request(spawner, { op: 'send', id, message }),
      kill: () => this.request(spawner, { op: 'kill', id }),
    };
  }

  /** Whether the pool's work keeps the process alive (it does while a job runs, not while children idle). */
  ref(keepAlive: boolean): void {
    this.referenced = keepAlive;
    const spawner = this.process;
    if (!spawner) return;
    const channel = spawner.channel as { ref?(): void; unref?(): void } | null | undefined;
    if (keepAlive) {
      spawner.ref();
      channel?.ref?.();
    } else {
      spawner.unref();
      channel?.unref?.();
    }
  }

  /** Ends the spawner; it kills the children still running. */
  async close(): Promise<void> {
    const spawner = this.process;
    if (!spawner || spawner.exitCode !== null || spawner.signalCode !== null) return;
    const exited = new Promise((resolve) => spawner.once('exit', resolve));
    // Disconnected already, it is on its way out (it exits when its channel closes).
    if (spawner.connected) spawner.disconnect();
    await exited;
  }

  private startProcess(): ChildProcess {
    const spawner = fork(this.resolvedEntry, [], { env: {}, serialization: 'advanced', stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    spawner.on('message', (event: SpawnerEvent) => this.received(event));
    spawner.on('error', () => undefined); // a failed spawn also ends in 'exit'
    spawner.on('exit', () => this.lost(spawner));
    this.ref(this.referenced);
    return spawner;
  }

  private request(spawner: ChildProcess, request: SpawnerRequest): void {
    // A spawner that died cannot take it: its children are reported exited as it goes.
    if (spawner.connected) spawner.send(request, () => undefined);
  }

  private received(event: SpawnerEvent): void {
    const known = this.children.get(event.id);
    if (!known) return;
    if (event.op === 'spawned') {
      known.pid = event.pid;
      known.forked(event.pid);
    } else if (event.op === 'message') known.events.message(event.message);
    else {
      this.children.delete(event.id);
      known.forked(null);
      known.events.exit(event.code, event.signal, event.stderr);
    }
  }

  /** The spawner is gone: its children are killed (one busy in a parse would not notice) and reported exited. */
  private lost(spawner: ChildProcess): void {
    if (this.process === spawner) this.process = null;
    for (const [id, known] of [...this.children]) {
      this.children.delete(id);
      try {
        if (known.pid) process.kill(known.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      known.forked(null);
      known.events.exit(null, 'SIGKILL', '');
    }
  }
}
