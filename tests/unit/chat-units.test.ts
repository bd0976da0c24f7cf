import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/env.js';
import { DecryptionError, Keyring, maskSecret } from '../../src/lib/crypto.js';
import { buildSystemPrompt, historyTurns } from '../../src/services/chat/context.js';
import { generateTags } from '../../src/services/conversations/close.js';
import { snippetOf } from '../../src/lib/snippet.js';
import { brainPlacement, cognitiveModel, compatibleModels, modelNameOf, pythonTitle, resolveModel } from '../../src/services/providers/catalog.js';
import { scrubKey } from '../../src/services/providers/errors.js';
import { alternateTurns } from '../../src/services/providers/turns.js';
import { TEST_ENV } from '../support/app.js';

const k1 = { version: 1, key: Buffer.alloc(32, 1) };
const k2 = { version: 2, key: Buffer.alloc(32, 2) };

describe('keyring (D10)', () => {
  it('round-trips with a fresh IV each time and a version prefix', () => {
    const ring = new Keyring([k1]);
    const a = ring.encrypt('sk-secret-value');
    const b = ring.encrypt('sk-secret-value');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1:[\w-]{16}:[\w-]{22}:[\w-]+$/);
    expect(a).not.toContain('secret');
    expect(ring.decrypt(a)).toEqual({ plaintext: 'sk-secret-value', stale: false });
  });

  it('refuses tampered data, unknown versions and garbage', () => {
    const ring = new Keyring([k1]);
    const token = ring.encrypt('sk-secret-value');
    const parts = token.split(':');
    const flipped = Buffer.from(parts[3]!, 'base64url');
    flipped[0]! ^= 1;
    expect(() => ring.decrypt([...parts.slice(0, 3), flipped.toString('base64url')].join(':'))).toThrow(DecryptionError);
    expect(() => ring.decrypt(token.replace(/^v1/, 'v9'))).toThrow(DecryptionError);
    expect(() => ring.decrypt('gAAAAABfernet-token')).toThrow(DecryptionError);
    expect(() => new Keyring([k2]).decrypt(token)).toThrow(DecryptionError);
  });

  it('after rotation, old values decrypt (marked stale) and new values use the newest key', () => {
    const old = new Keyring([k1]).encrypt('sk-old-key-123');
    const rotated = new Keyring([k1, k2]);
    expect(rotated.decrypt(old)).toEqual({ plaintext: 'sk-old-key-123', stale: true });
    const fresh = rotated.encrypt('sk-old-key-123');
    expect(fresh.startsWith('v2:')).toBe(true);
    expect(rotated.decrypt(fresh).stale).toBe(false);
  });

  it('config: ENCRYPTION_KEY_PREVIOUS makes the current key version 2', () => {
    const config = loadConfig({ ...TEST_ENV, ENCRYPTION_KEY_PREVIOUS: Buffer.alloc(32, 3).toString('base64') });
    expect(config.encryptionKeys.map((k) => k.version)).toEqual([2, 1]);
  });

  it('masks as abc...xyz, short values as ***', () => {
    expect(maskSecret('sk-abcdefxyz')).toBe('sk-...xyz');
    expect(maskSecret('12345')).toBe('***');
    expect(maskSecret('123456')).toBe('123...456');
  });
});

describe('model catalogue (§5.7)', () => {
  const llm = loadConfig(TEST_ENV).llm;

  it('Python str.title() semantics', () => {
    expect(pythonTitle('gpt 4o')).toBe('Gpt 4O');
    expect(pythonTitle('llama 3.3 70b versatile')).toBe('Llama 3.3 70B Versatile');
    expect(pythonTitle('claude 3.5 sonnet')).toBe('Claude 3.5 Sonnet');
    expect(pythonTitle("o'neil MIXtral-8x7b")).toBe("O'Neil Mixtral-8X7B");
  });

  it('resolves providers: exact, case-insensitive, configured defaults, else echo', () => {
    expect(resolveModel('model-gpt-4o', llm)).toEqual({ provider: 'openai', name: 'gpt-4o' });
    expect(resolveModel('model-GPT-4O', llm)).toEqual({ provider: 'openai', name: 'GPT-4O' });
    expect(resolveModel('model-model-claude-3-haiku', llm)).toEqual({ provider: 'anthropic', name: 'claude-3-haiku' });
    expect(resolveModel('gemini-pro', llm).provider).toBe('echo');
    expect(resolveModel('model-gpt-5', { ...llm, defaultModels: { ...llm.defaultModels, openai: 'gpt-5' } }).provider).toBe('openai');
    expect(modelNameOf('model-x-model-y')).toBe('x-y');
  });

  it('brain placement is the anchor on the 2.2 sphere; unknown providers sit at (0,0,2.2)', () => {
    const p = brainPlacement('deepseek');
    expect(p.brainRegion).toBe('Frontal Lobe');
    expect(p.position.x).toBe(0);
    expect(p.position.y).toBeCloseTo(1.8305106, 6);
    expect(p.position.z).toBeCloseTo(1.2203404, 6);
    expect(Math.hypot(p.position.x, p.position.y, p.position.z)).toBeCloseTo(2.2, 10);
    expect(brainPlacement('google').position).toEqual({ x: 0, y: expect.closeTo(-1.2203404, 6), z: expect.closeTo(1.8305106, 6) });
    expect(brainPlacement('echo')).toEqual({ brainRegion: 'Cerebellum', position: { x: 0, y: 0, z: 2.2 } });
    expect(brainPlacement('mystery')).toEqual({ brainRegion: 'Unknown', position: { x: 0, y: 0, z: 2.2 } });
    expect(cognitiveModel({ provider: 'google', modelId: null, modelName: null }, llm)).toMatchObject({ id: 'model-gemini-2.0-flash', displayName: 'Gemini 2.0 Flash' });
    expect(cognitiveModel({ provider: 'deepseek', modelId: '', modelName: '' }, llm)).toMatchObject({ id: 'model-deepseek-chat', displayName: 'Deepseek Chat' });
  });

  describe('declared OpenAI-compatible providers', () => {
    const names = ['ollama', 'lmstudio', 'vllm', 'llamacpp', 'six', 'seven', 'eight', 'nine'];
    const declared = loadConfig({ ...TEST_ENV, OPENAI_COMPATIBLE_PROVIDERS: names.map((n, i) => `${n}=http://127.0.0.1:${11000 + i}/v1`).join(',') }).llm;

    it('resolves model-<provider>/<model> to the provider with the model id whole; undeclared prefixes as before', () => {
      expect(resolveModel('model-ollama/llama3.2:latest', declared)).toEqual({ provider: 'ollama', name: 'llama3.2:latest' });
      expect(resolveModel('model-vllm/meta-llama/my-model-x', declared)).toEqual({ provider: 'vllm', name: 'meta-llama/my-model-x' });
      expect(resolveModel('ollama/llama3.2', declared)).toEqual({ provider: 'ollama', name: 'llama3.2' });
      expect(resolveModel('model-ollama/llama3.2', llm).provider).toBe('echo');
      expect(resolveModel('model-gpt-4o', declared)).toEqual({ provider: 'openai', name: 'gpt-4o' });
      // a declared integration's own model id without the prefix still finds its provider
      expect(resolveModel('model-phi3', declared, [{ provider: 'lmstudio', modelId: 'phi3' }])).toEqual({ provider: 'lmstudio', name: 'phi3' });
    });

    it('each declared provider gets its own region and anchor on the 2.2 sphere; its models spread around it; built-in placements unchanged', () => {
      const anchors = names.map((n) => brainPlacement(n, declared));
      expect(anchors.slice(0, 6).map((p) => p.brainRegion)).toEqual(['Right Temporal', 'Parietal Lobe', 'Hippocampus', 'Brainstem', 'Limbic System', 'Thalamus']);
      expect(anchors.slice(6).map((p) => p.brainRegion)).toEqual(['Association Cortex', 'Association Cortex']);
      const builtIn = ['openai', 'anthropic', 'google', 'deepseek', 'groq', 'echo'].map((p) => brainPlacement(p, declared));
      const points = [...anchors, ...builtIn].map((p) => p.position);
      for (const p of points) expect(Math.hypot(p.x, p.y, p.z)).toBeCloseTo(2.2, 10);
      // no two providers share a point, and every declared one faces front as the built-in ones do
      const distinct = new Set(points.map((p) => `${p.x.toFixed(3)},${p.y.toFixed(3)},${p.z.toFixed(3)}`));
      expect(distinct.size).toBe(points.length);
      for (const p of anchors) expect(p.position.z).toBeGreaterThan(0);
      expect(builtIn.map((p) => p.position)).toEqual(['openai', 'anthropic', 'google', 'deepseek', 'groq', 'echo'].map((p) => brainPlacement(p).position));
      // models of one provider: the first at the anchor, the next ones close by, all apart
      const models = Array.from({ length: 12 }, (_, i) => brainPlacement('ollama', declared, i).position);
      expect(models[0]).toEqual(anchors[0]!.position);
      for (const p of models) expect(Math.hypot(p.x, p.y, p.z)).toBeCloseTo(2.2, 10);
      const gaps = models.slice(1).map((p) => Math.hypot(p.x - models[0]!.x, p.y - models[0]!.y, p.z - models[0]!.z));
      for (const gap of gaps) expect(gap).toBeGreaterThan(0.2);
      for (const gap of gaps) expect(gap).toBeLessThan(1.5);
      expect(new Set(models.map((p) => `${p.x.toFixed(3)},${p.y.toFixed(3)},${p.z.toFixed(3)}`)).size).toBe(12);
    });

    it('compatibleModels: the integration model first with its name, then the listed ones; ids too long for a conversation left out', () => {
      const listed = ['llama3.2:latest', 'phi3', 'x'.repeat(40)];
      const models = compatibleModels({ provider: 'ollama', modelId: 'phi3', modelName: 'Phi Three' }, listed, declared);
      expect(models.map((m) => [m.id, m.name, m.displayName])).toEqual([
        ['model-ollama/phi3', 'ollama/phi3', 'Phi Three'],
        ['model-ollama/llama3.2:latest', 'ollama/llama3.2:latest', 'Llama3.2:Latest'],
      ]);
      expect(models[0]).toMatchObject({ provider: 'ollama', status: 'connected', ...brainPlacement('ollama', declared, 0) });
      expect(models[1]!.position).toEqual(brainPlacement('ollama', declared, 1).position);
    });
  });
});

describe('provider key scrubbing', () => {
  it('replaces every occurrence of the key in any letter case; regex characters in keys are literal', () => {
    const key = 'sk-Proj.ab+c$9(x)';
    expect(scrubKey(`bad key ${key}; again ${key.toUpperCase()}, ${key.toLowerCase()}`, key)).toBe('bad key ***; again ***, ***');
    expect(scrubKey('sk-projXab+c$9(x)', key)).toBe('sk-projXab+c$9(x)');
    // short values would match ordinary words: left alone
    expect(scrubKey('Error in abc', 'ABC')).toBe('Error in abc');
  });
});

describe('context and close helpers', () => {
  it('system prompt without memories is the base prompt; history keeps the last 10', () => {
    expect(buildSystemPrompt([], [], 1000)).toEqual({ system: 'You are a helpful AI assistant in the Chimera Protocol system.', injectedIds: [], retrievedIds: [] });
    // the workspace's own prompt comes first, outside the memory budget
    expect(buildSystemPrompt([], [], 10, 'Answer in French.').system).toBe('Answer in French.\n\nYou are a helpful AI assistant in the Chimera Protocol system.');
    const turns = historyTurns(Array.from({ length: 15 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `m${i}` })));
    expect(turns.map((t) => t.content)).toEqual(['m5', 'm6', 'm7', 'm8', 'm9', 'm10', 'm11', 'm12', 'm13', 'm14']);
  });

  it('retrieved memories share the budget left by injected ones', () => {
    const prompt = buildSystemPrompt([{ id: 'a', title: 'A', content: 'x'.repeat(900) }], [{ id: 'b', title: 'B', content: 'y'.repeat(50) }, { id: 'c', title: 'C', content: 'z'.repeat(500) }], 1000);
    expect(prompt.injectedIds).toEqual(['a']);
    expect(prompt.retrievedIds).toEqual(['b']);
    expect(prompt.system).toContain('=== Retrieved Context ===\n\n[B]\n');
    expect(prompt.system).toContain('[Note: 1 more memory was left out to fit the context budget.]');
  });

  it('alternation for Anthropic/Google: drops system and leading assistant turns, merges repeats', () => {
    expect(alternateTurns([
      { role: 'assistant', content: 'a0' }, { role: 'system', content: 's' }, { role: 'user', content: 'u1' },
      { role: 'user', content: 'u2' }, { role: 'assistant', content: 'a1' },
    ], 'assistant')).toEqual([{ role: 'user', content: 'u1\n\nu2' }, { role: 'assistant', content: 'a1' }]);
  });

  it('tags and snippets (§5.11, §5.4)', () => {
    expect(generateTags('nothing to see')).toEqual(['general']);
    expect(generateTags('The TEAM must fix the React frontend')).toEqual(['frontend', 'team', 'important']);
    expect(snippetOf('a'.repeat(150))).toBe('a'.repeat(150));
    expect(snippetOf('a'.repeat(151))).toBe(`${'a'.repeat(150)}...`);
  });
});
