/**
 * The spawner process of a ProcessPool (see process-pool-spawner.ts): forks the pool's children
 * when asked, at a lower CPU priority, with an empty environment, and relays messages between
 * them and the pool. It ends its children and itself when the pool's process goes.
 */
import { type ChildProcess, fork, type Serializable } from 'node:child_process';
import { getPriority, setPriority } from 'node:os';
import type { SpawnerEvent, SpawnerRequest } from './process-pool-spawner.js';

const STDERR_KEPT = 4096;

if (!process.send) throw new Error('the spawner runs in a child process started with an IPC channel');
const tell = process.send.bind(process) as (event: SpawnerEvent) => boolean;
const children = new Map<number, ChildProcess>();

function spawn({ id, entry, execArgv, niceness }: Extract<SpawnerRequest, { op: 'spawn' }>): void {
  const child = fork(entry, [], { execArgv, env: {}, serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  children.set(id, child);
  try {
    if (child.pid) setPriority(child.pid, Math.min(19, getPriority() + niceness));
  } catch {
    // Not permitted on this platform: the child runs at the spawner's priority.
  }
  if (child.pid) tell({ op: 'spawned', id, pid: child.pid });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEPT);
  });
  child.on('message', (message) => tell({ op: 'message', id, message }));
  child.on('error', () => undefined); // a failed spawn also ends in 'close'
  // 'close' comes after stderr is drained, so an out-of-memory message has been read.
  child.on('close', (code, signal) => {
    children.delete(id);
    tell({ op: 'exit', id, code, signal, stderr });
  });
}

process.on('message', (request: SpawnerRequest) => {
  if (request.op === 'spawn') return spawn(request);
  const child = children.get(request.id);
  if (request.op === 'kill') child?.kill('SIGKILL');
  // A child that died meanwhile cannot take it: its exit is on its way to the pool.
  else child?.send(request.message as Serializable, () => undefined);
});

// The pool's process owns this one: when it goes, so do the children, even one busy in a parse
// (which would never see its own channel close).
process.on('disconnect', () => {
  for (const child of children.values()) child.kill('SIGKILL');
  process.exit(0);
});
// A Ctrl-C in a terminal reaches the whole process group; the server's shutdown decides.
process.on('SIGINT', () => undefined);
