import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseDuration } from '../../src/config/env.js';
import { tempDir } from '../support/temp-dirs.js';

describe('configuration', () => {
  it('has working defaults: port 8000, embedded database in ./data, 24 h / 7 d tokens', () => {
    const dir = tempDir('chimera-cfg-');
    const config = loadConfig({ DATA_DIR: dir });
    expect(config.port).toBe(8000);
    expect(config.database).toEqual({ kind: 'pglite', dir: join(dir, 'pglite') });
    expect(config.accessTokenTtlMs).toBe(24 * 3600 * 1000);
    expect(config.refreshTokenTtlMs).toBe(7 * 24 * 3600 * 1000);
    expect(config.corsOrigins).toContain('http://localhost:5173');
  });

  it('generates development secrets once and keeps them in the data directory (0600)', () => {
    const dir = tempDir('chimera-cfg-');
    const a = loadConfig({ DATA_DIR: dir });
    const b = loadConfig({ DATA_DIR: dir });
    expect(a.jwtSecret).toBe(b.jwtSecret);
    expect(a.encryptionKeys[0]!.key.equals(b.encryptionKeys[0]!.key)).toBe(true);
    expect(a.jwtSecret.length).toBeGreaterThanOrEqual(32);
    const file = join(dir, 'secrets.json');
    expect(JSON.parse(readFileSync(file, 'utf8')).jwtSecret).toBe(a.jwtSecret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('refuses to start in production without secrets, naming what is missing', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) })).toThrow(/ENCRYPTION_KEY/);
    expect(() => loadConfig({ NODE_ENV: 'production', ENCRYPTION_KEY: Buffer.alloc(32).toString('base64') })).toThrow(/JWT_SECRET/);
    const ok = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') });
    expect(ok.env).toBe('production');
  });

  it('rejects invalid values with a readable message', () => {
    expect(() => loadConfig({ PORT: 'eighty', DATA_DIR: tempDir('chimera-cfg-') })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x', DATA_DIR: tempDir('chimera-cfg-') })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ JWT_SECRET: 'short', ENCRYPTION_KEY: Buffer.alloc(32).toString('base64') })).toThrow(/JWT_SECRET/);
    expect(() => loadConfig({ JWT_SECRET: 'x'.repeat(40), ENCRYPTION_KEY: 'too-short' })).toThrow(/ENCRYPTION_KEY must be 32 bytes/);
  });

  it('supports key rotation: the current key gets the newest version', () => {
    const current = Buffer.alloc(32, 2).toString('base64');
    const previous = Buffer.alloc(32, 1).toString('hex');
    const c = loadConfig({ JWT_SECRET: 'x'.repeat(40), ENCRYPTION_KEY: current, ENCRYPTION_KEY_PREVIOUS: previous });
    expect(c.encryptionKeys.map((k) => k.version)).toEqual([2, 1]);
    expect(c.encryptionKeys[1]!.key.toString('hex')).toBe(previous);
  });

  it('parses durations', () => {
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('30')).toBe(30_000);
  });

  it('refuses a bcrypt cost below 10 with a clear message, except for the test suite', () => {
    const secrets = { JWT_SECRET: 'x'.repeat(40), ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') };
    for (const env of ['development', 'production'] as const) {
      expect(() => loadConfig({ ...secrets, NODE_ENV: env, BCRYPT_COST: '9' })).toThrow(ConfigError);
      expect(() => loadConfig({ ...secrets, NODE_ENV: env, BCRYPT_COST: '4' })).toThrow(/BCRYPT_COST: must be at least 10 \(got 4\)/);
      expect(loadConfig({ ...secrets, NODE_ENV: env, BCRYPT_COST: '10' }).bcryptCost).toBe(10);
    }
    expect(loadConfig({ ...secrets, NODE_ENV: 'test', BCRYPT_COST: '4' }).bcryptCost).toBe(4);
    expect(loadConfig({ ...secrets, DATA_DIR: tempDir('chimera-cfg-') }).bcryptCost).toBe(12);
  });

  it('session settings: a 15-minute re-authentication window and a 10 s cap on login delays by default', () => {
    const config = loadConfig({ DATA_DIR: tempDir('chimera-cfg-') });
    expect(config.reauthWindowMs).toBe(15 * 60_000);
    expect(config.authRateLimit).toMatchObject({ perEmail: 10, maxDelayMs: 10_000 });
    expect(loadConfig({ DATA_DIR: tempDir('chimera-cfg-'), REAUTH_WINDOW: '5m', AUTH_RATE_LIMIT_MAX_DELAY: '0' }).reauthWindowMs).toBe(300_000);
  });

  it('the host names /mcp answers to: HOST, the loopback names and PUBLIC_HOSTS, without ports', () => {
    const dir = tempDir('chimera-cfg-');
    expect(loadConfig({ DATA_DIR: dir }).publicHosts.sort()).toEqual(['127.0.0.1', '[::1]', 'localhost']);
    expect(loadConfig({ DATA_DIR: dir, HOST: '0.0.0.0', PUBLIC_HOSTS: 'API.example.com:8443, https://chimera.example/, 10.0.0.5' }).publicHosts.sort()).toEqual(
      ['10.0.0.5', '127.0.0.1', '[::1]', 'api.example.com', 'chimera.example', 'localhost'],
    );
    expect(loadConfig({ DATA_DIR: dir, HOST: '::1' }).publicHosts).toContain('[::1]');
    expect(loadConfig({ DATA_DIR: dir, HOST: '192.168.1.20' }).publicHosts).toContain('192.168.1.20');
    expect(() => loadConfig({ DATA_DIR: dir, PUBLIC_HOSTS: 'http://' })).toThrow(/PUBLIC_HOSTS/);
  });
  describe('OPENAI_COMPATIBLE_PROVIDERS', () => {
    const load = (value: string, extra: Record<string, string> = {}) =>
      loadConfig({ DATA_DIR: tempDir('chimera-cfg-'), OPENAI_COMPATIBLE_PROVIDERS: value, ...extra });

    it('declares name=baseUrl pairs in order, trailing slashes dropped; none by default; listing cached 5 min within 3 s', () => {
      const { llm } = load(' ollama=http://127.0.0.1:11434/v1/ , lm-studio=http://127.0.0.1:1234/v1,vllm_2=https://gpu.internal:8000/v1,,');
      expect(llm.compatibleProviders).toEqual([
        { name: 'ollama', baseUrl: 'http://127.0.0.1:11434/v1' },
        { name: 'lm-studio', baseUrl: 'http://127.0.0.1:1234/v1' },
        { name: 'vllm_2', baseUrl: 'https://gpu.internal:8000/v1' },
      ]);
      const defaults = loadConfig({ DATA_DIR: tempDir('chimera-cfg-') }).llm;
      expect(defaults.compatibleProviders).toEqual([]);
      expect([defaults.modelListTtlMs, defaults.modelListTimeoutMs]).toEqual([300_000, 3000]);
      expect(load('ollama=http://127.0.0.1:11434/v1', { OPENAI_COMPATIBLE_MODELS_TTL: '30s', OPENAI_COMPATIBLE_MODELS_TIMEOUT: '500ms' }).llm).toMatchObject({ modelListTtlMs: 30_000, modelListTimeoutMs: 500 });
    });

    it.each([
      ['ollama', '"ollama" is not a name=baseUrl pair (e.g. ollama=http://127.0.0.1:11434/v1)'],
      ['ollama=', '"ollama=" is not a name=baseUrl pair'],
      ['Ollama=http://127.0.0.1:11434/v1', '"Ollama" is not a provider name: a lowercase letter, then lowercase letters, digits, - or _, at most 20 characters'],
      ['1llm=http://127.0.0.1/v1', '"1llm" is not a provider name'],
      [`${'a'.repeat(21)}=http://127.0.0.1/v1`, 'is not a provider name'],
      ['my llm=http://127.0.0.1/v1', '"my llm" is not a provider name'],
      ['openai=http://127.0.0.1:11434/v1', '"openai" is the name of a built-in provider; choose another'],
      ['groq=http://127.0.0.1:11434/v1', '"groq" is the name of a built-in provider'],
      ['echo=http://127.0.0.1:11434/v1', '"echo" is the name of a built-in provider'],
      ['a=http://127.0.0.1/v1,a=http://127.0.0.2/v1', '"a" is declared twice'],
      ['local2=ftp://127.0.0.1/v1', 'the base URL of "local2" must be an http:// or https:// URL (got "ftp://127.0.0.1/v1")'],
      ['local2=127.0.0.1:11434', 'the base URL of "local2" must be an http:// or https:// URL'],
      ['local2=http://user:secret@127.0.0.1/v1', 'the base URL of "local2" must not carry credentials'],
    ])('refuses %s at start, naming the variable and the entry', (value, message) => {
      let error: unknown;
      try {
        load(value);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('Invalid configuration:\n  OPENAI_COMPATIBLE_PROVIDERS: ');
      expect((error as Error).message).toContain(message);
    });
  });
});
