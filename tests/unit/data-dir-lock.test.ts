import { spawn } from 'node:child_process';
import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirInUseError, lockDataDir } from '../../src/db/data-dir-lock.js';
import { tempDir } from '../support/temp-dirs.js';

describe('PGlite data directory lock', () => {
  const fresh = () => join(tempDir('chimera-lock-'), 'pglite');
  const owner = (pid: number, host = hostname()) => JSON.stringify({ pid, host, since: '2026-01-01T00:00:00.000Z' });

  it('is exclusive, names the directory and its owner, and is free again once released', () => {
    const dir = fresh();
    const lock = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(DataDirInUseError);
    expect(() => lockDataDir(dir)).toThrow(`The PGlite data directory ${dir} is in use by another Chimera API process (pid ${process.pid}`);
    lock.release();
    expect(existsSync(`${dir}.lock`)).toBe(false);
    lockDataDir(dir).release();
  });

  it('refuses while the owning process lives; takes over when it is gone, a leftover of our own pid, or garbage', async () => {
    const dir = fresh();
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    try {
      writeFileSync(`${dir}.lock`, owner(other.pid!));
      expect(() => lockDataDir(dir)).toThrow(`pid ${other.pid} on ${hostname()}`);
    } finally {
      const gone = new Promise((resolve) => other.once('exit', resolve));
      other.kill('SIGKILL');
      await gone;
    }
    lockDataDir(dir).release(); // its owner was killed: stale
    writeFileSync(`${dir}.lock`, owner(process.pid)); // a restarted container gets the same pid
    lockDataDir(dir).release();
    writeFileSync(`${dir}.lock`, 'not a lock');
    lockDataDir(dir).release();
  });

  it('a lock from another host holds while its owner keeps touching it, and goes stale when it stops', () => {
    const dir = fresh();
    writeFileSync(`${dir}.lock`, owner(process.pid, 'elsewhere.example'));
    expect(() => lockDataDir(dir)).toThrow('on elsewhere.example');
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${dir}.lock`, old, old);
    lockDataDir(dir).release();
  });
});
