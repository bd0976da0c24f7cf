import { afterAll, beforeAll, expect, it } from 'vitest';
import { SUMMARY_PROMPT_TOKENS } from '../../src/services/imports/summary.js';
import { describeEachStorage, type TestApp } from '../support/app.js';
import { connect } from '../support/chat.js';
import { registerUser, type Session } from '../support/factories.js';
import { DEFAULT_REPLY, startFakeProviders } from '../support/fake-providers.js';
import { type LocalServer, startLocalServer } from '../support/local-server.js';

const fake = await startFakeProviders();
afterAll(() => fake.close());

/** A document well over the extractive budget: 40 paragraphs, about 7,000 characters. */
const LONG = Array.from({ length: 40 }, (_, i) => `Paragraph ${i}: ${'measured observations of the river delta '.repeat(4).trim()}`).join('\n\n');
const TRUNCATED = /\n\n\[Content truncated from \d+ to \d+ characters\]$/;

let pages: LocalServer;
beforeAll(async () => {
  pages = await startLocalServer((_req, res) => {
    const body = LONG.split('\n\n').map((p) => `<p>${p}</p>`).join('');
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<html><head><title>Delta</title></head><body><article>${body}</article></body></html>`);
  });
});
afterAll(() => pages.close());

async function owner(app: TestApp) {
  const s = await registerUser(app);
  const ws = await app.deps.prisma.workspace.findFirstOrThrow({ where: { ownerId: s.user.id } });
  return { s, ws };
}

const importFile = (app: TestApp, s: Session, workspaceId: string, text: string, summarize = 'true') =>
  app.http.post(`/api/workspaces/${workspaceId}/memories/import-file`).set(s.auth).field('summarize', summarize).attach('file', Buffer.from(text), 'notes.md');

/** The calls that generate text (connection tests are GETs, or Google's countTokens). */
const chatCalls = (marker: string) => fake.requestsFor(marker).filter((r) => r.method === 'POST' && !r.path.endsWith(':countTokens'));

describeEachStorage(
  'import summaries (D16)',
  (ctx) => {
    beforeAll(async () => {
      // Start a parser process before the URL import's deadline runs.
      await ctx().deps.documentParser.parse({ kind: 'page', contentType: 'text/html', charset: null, body: Buffer.from('<p>warm-up</p>'), summarize: false, maxChars: 100, pdfTitle: null });
    });

    it('file import with summarize: the first connected provider writes it with the caller key, from the whole text; the metadata names the model', async () => {
      const app = ctx();
      const { s, ws } = await owner(app);
      // Creation order decides; an integration whose connection test failed is passed over.
      await app.http.post('/api/integrations').set(s.auth).send({ provider: 'openai', apiKey: 'sk-badkey-summary' }).expect(201);
      const { marker } = await connect(app, s, 'anthropic', 'ok', { modelId: 'claude-3-haiku' });
      await connect(app, s, 'groq');
      const res = await importFile(app, s, ws.id, LONG);
      expect(res.status).toBe(201);
      expect(res.body.data.was_summarized).toBe(true);
      expect(res.body.data.memory.content).toBe(DEFAULT_REPLY);
      expect(res.body.data.memory.metadata).toMatchObject({ was_summarized: true, summary: { by: 'model', model: 'claude-3-haiku-20240307' } });
      const [call, ...more] = chatCalls(marker);
      expect(more).toEqual([]);
      expect(call!.path).toBe('/v1/messages');
      expect(call!.body.model).toBe('claude-3-haiku-20240307');
      expect(call!.body.system).toMatch(/^You summarise documents/);
      expect(call!.body.messages).toEqual([{ role: 'user', content: `Summarise this document:\n\n${LONG}` }]);
      expect(fake.requests.filter((r) => r.apiKey === 'sk-badkey-summary' && r.method === 'POST')).toEqual([]);
    });

    it('the prompt is bounded by tokens: a long document is cut to its beginning, and the prompt says so', async () => {
      const app = ctx();
      const { s, ws } = await owner(app);
      const { marker } = await connect(app, s, 'openai');
      const huge = Array.from({ length: 3000 }, (_, i) => `Line ${i} of a very long log of river gauges.`).join('\n');
      const res = await importFile(app, s, ws.id, huge);
      expect(res.status).toBe(201);
      expect(res.body.data.memory.metadata.summary).toEqual({ by: 'model', model: 'gpt-4o' });
      const prompt: string = chatCalls(marker)[0]!.body.messages.at(-1).content;
      const [intro, text] = prompt.split('\n\n');
      expect(intro).toBe('Summarise this document (only its beginning is included; it was cut to fit):');
      // ASCII counts a third of a token.
      expect(text!.length).toBe(SUMMARY_PROMPT_TOKENS * 3);
      expect(huge.startsWith(text!)).toBe(true);
    });

    it.each([
      ['chat500', 'The server had an error while processing your request.'],
      ['chat401', 'Incorrect API key provided: ***.'],
      ['hang', 'Request timeout'],
    ])('a provider answering %s leaves the import to the extractive summary, and the metadata says why', async (behaviour, error) => {
      const app = ctx();
      const { s, ws } = await owner(app);
      const { apiKey, marker } = await connect(app, s, 'openai', behaviour);
      const res = await importFile(app, s, ws.id, LONG);
      expect(res.status).toBe(201);
      expect(res.body.data.was_summarized).toBe(true);
      expect(res.body.data.memory.content).toMatch(TRUNCATED);
      expect(res.body.data.memory.content.startsWith('Paragraph 0: measured')).toBe(true);
      expect(res.body.data.memory.metadata.summary).toEqual({ by: 'extractive', model: 'gpt-4o', error });
      expect(chatCalls(marker)).toHaveLength(1);
      expect(JSON.stringify(res.body)).not.toContain(apiKey);
      expect(app.logs.join('')).not.toContain(apiKey);
    });

    it('without a connected provider the summary is extractive; without summarize, or for short content, no model is asked', async () => {
      const app = ctx();
      const { s, ws } = await owner(app);
      const none = await importFile(app, s, ws.id, LONG);
      expect(none.body.data.memory.content).toMatch(TRUNCATED);
      expect(none.body.data.memory.metadata).toMatchObject({ was_summarized: true, summary: { by: 'extractive' } });
      const { marker } = await connect(app, s, 'openai');
      const off = await importFile(app, s, ws.id, LONG, 'false');
      expect(off.body.data).toMatchObject({ was_summarized: false, memory: { content: LONG } });
      expect(off.body.data.memory.metadata).not.toHaveProperty('summary');
      const short = await importFile(app, s, ws.id, 'A short note that needs no summary at all.');
      expect(short.body.data).toMatchObject({ was_summarized: false, memory: { content: 'A short note that needs no summary at all.' } });
      expect(short.body.data.memory.metadata).not.toHaveProperty('summary');
      expect(chatCalls(marker)).toEqual([]);
    });

    it('URL import (summarize by default): the provider writes the summary of the page text', async () => {
      const app = ctx();
      const { s, ws } = await owner(app);
      const { marker } = await connect(app, s, 'google');
      const res = await app.http.post(`/api/workspaces/${ws.id}/memories/import-url`).set(s.auth).send({ url: pages.url('/delta') });
      expect(res.status).toBe(201);
      expect(res.body.data).toMatchObject({ was_summarized: true, memory: { title: '[Imported] Delta', content: DEFAULT_REPLY } });
      expect(res.body.data.memory.metadata).toMatchObject({ was_summarized: true, summary: { by: 'model', model: 'gemini-2.0-flash' } });
      const [call] = chatCalls(marker);
      expect(call!.path).toBe('/v1beta/models/gemini-2.0-flash:generateContent');
      expect(call!.body.contents[0].parts[0].text).toContain('Paragraph 39: measured observations');
    });
  },
  { ...fake.env, LLM_TIMEOUT: '1s', URL_IMPORT_ALLOW_HOSTS: '127.0.0.1' },
);

describeEachStorage(
  'import summaries within the URL import deadline',
  (ctx) => {
    it('a provider that never answers is cut off by URL_IMPORT_TIMEOUT, not LLM_TIMEOUT: the import succeeds with the extractive summary', async () => {
      const app = ctx();
      const { s, ws } = await owner(app);
      const { marker } = await connect(app, s, 'deepseek', 'hang');
      const res = await app.http.post(`/api/workspaces/${ws.id}/memories/import-url`).set(s.auth).send({ url: pages.url('/delta'), summarize: true });
      expect(res.status).toBe(201);
      expect(res.body.data.memory.content).toMatch(TRUNCATED);
      expect(res.body.data.memory.metadata.summary).toEqual({ by: 'extractive', model: 'deepseek-chat', error: 'Request timeout' });
      expect(chatCalls(marker)).toHaveLength(1);
    });
  },
  // LLM_TIMEOUT beyond the test's own timeout: only the import's deadline can end the call in time.
  { ...fake.env, LLM_TIMEOUT: '120s', URL_IMPORT_TIMEOUT: '3s', URL_IMPORT_ALLOW_HOSTS: '127.0.0.1' },
);
