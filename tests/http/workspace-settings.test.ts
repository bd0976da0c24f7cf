/**
 * Workspace settings (W4 `settings`): they round-trip through every workspace object, are
 * validated, only owners and admins change them, and chat follows them: the system prompt
 * leads every prompt, the default model starts conversations, auto-retrieve and its top-k
 * decide what is retrieved.
 */
import { afterAll, expect, it } from 'vitest';
import { describeEachStorage, type TestApp } from '../support/app.js';
import { addMember, connect, createMemory, defaultWorkspaceId } from '../support/chat.js';
import { registerUser, type Session } from '../support/factories.js';
import { startFakeProviders } from '../support/fake-providers.js';

const fake = await startFakeProviders();
afterAll(() => fake.close());

const DEFAULTS = { systemPrompt: null, defaultModelId: null, autoRetrieve: false, autoExtract: false, retrievalTopK: 5 };
const BASE_PROMPT = 'You are a helpful AI assistant in the Chimera Protocol system.';

const putSettings = (app: TestApp, s: Session, workspaceId: string, settings: unknown) =>
  app.http.put(`/api/workspaces/${workspaceId}`).set(s.auth).send({ settings });

/** The system prompt of the newest OpenAI-format call made with the key `marker`. */
const lastSystemPrompt = (marker: string) => fake.requestsFor(marker).filter((r) => r.method === 'POST').at(-1)!.body.messages[0].content as string;

describeEachStorage('workspace settings', (ctx) => {
  it('round-trip: every workspace object carries them; only the keys sent change; the workspace counts as updated', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const ws = await defaultWorkspaceId(app, s);
    const before = (await app.http.get(`/api/workspaces/${ws}`).set(s.auth)).body.data;
    expect(before.settings).toEqual(DEFAULTS);

    const res = await putSettings(app, s, ws, { systemPrompt: '  Answer in French.  ', defaultModelId: 'GPT-4o', autoRetrieve: true, autoExtract: 'true', retrievalTopK: '3' });
    expect(res.status).toBe(200);
    // the model is stored as /models/available names it; the prompt as written
    const changed = { systemPrompt: '  Answer in French.  ', defaultModelId: 'model-gpt-4o', autoRetrieve: true, autoExtract: true, retrievalTopK: 3 };
    expect(res.body.data.settings).toEqual(changed);
    expect(res.body.data.name).toBe(before.name);
    expect(Date.parse(res.body.data.updatedAt)).toBeGreaterThan(Date.parse(before.updatedAt));
    expect((await app.http.get(`/api/workspaces/${ws}`).set(s.auth)).body.data.settings).toEqual(changed);
    const listed = (await app.http.get('/api/workspaces').set(s.auth)).body.data.workspaces.find((w: { id: string }) => w.id === ws);
    expect(listed.settings).toEqual(changed);

    // a rename leaves the settings alone; a partial change leaves the other settings alone
    expect((await app.http.put(`/api/workspaces/${ws}`).set(s.auth).send({ name: 'Renamed' })).body.data.settings).toEqual(changed);
    const partial = await putSettings(app, s, ws, { retrievalTopK: 8 });
    expect(partial.body.data.settings).toEqual({ ...changed, retrievalTopK: 8 });
    // null and blank clear
    const cleared = await putSettings(app, s, ws, { systemPrompt: '   ', defaultModelId: null });
    expect(cleared.body.data.settings).toEqual({ ...changed, retrievalTopK: 8, systemPrompt: null, defaultModelId: null });
    expect((await putSettings(app, s, ws, {})).body.data.settings).toEqual(cleared.body.data.settings);
  });

  it('validation: bounded prompt and top-k, catalogue models only, no unknown keys; never a 500', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const ws = await defaultWorkspaceId(app, s);
    const refused: [unknown, string][] = [
      [{ systemPrompt: 'x'.repeat(4001) }, 'settings.systemPrompt: Ensure this field has no more than 4000 characters.'],
      [{ retrievalTopK: 0 }, 'settings.retrievalTopK: Ensure this value is greater than or equal to 1.'],
      [{ retrievalTopK: 21 }, 'settings.retrievalTopK: Ensure this value is less than or equal to 20.'],
      [{ retrievalTopK: 2.5 }, 'settings.retrievalTopK: A valid integer is required.'],
      [{ defaultModelId: 'model-gpt-5-imaginary' }, 'settings.defaultModelId: "model-gpt-5-imaginary" is not a known model.'],
      [{ defaultModelId: '' }, 'settings.defaultModelId: This field may not be blank.'],
      [{ autoRetrieve: 'perhaps' }, 'settings.autoRetrieve: Must be a valid boolean.'],
      [{ autoExtract: null }, 'settings.autoExtract: Must be a valid boolean.'],
      [{ autoretrieve: true }, expect.stringMatching(/^settings: .*autoretrieve/) as unknown as string],
    ];
    for (const [settings, error] of refused) {
      const res = await putSettings(app, s, ws, settings);
      expect(res.status, JSON.stringify(settings)).toBe(400);
      expect(res.body.error, JSON.stringify(settings)).toEqual(error);
    }
    for (const settings of [null, 'on', [], 5]) expect((await putSettings(app, s, ws, settings)).status, JSON.stringify(settings)).toBe(400);
    expect((await putSettings(app, s, ws, { systemPrompt: 'x'.repeat(4000) })).status).toBe(200);
    // nothing refused was stored
    expect((await app.http.get(`/api/workspaces/${ws}`).set(s.auth)).body.data.settings).toEqual({ ...DEFAULTS, systemPrompt: 'x'.repeat(4000) });
  });

  it('only owners and admins change settings; every member reads them', async () => {
    const app = ctx();
    const owner = await registerUser(app);
    const ws = await defaultWorkspaceId(app, owner);
    const [admin, researcher, observer, stranger] = await Promise.all([1, 2, 3, 4].map(() => registerUser(app)));
    await addMember(app, ws, admin!, 'admin');
    await addMember(app, ws, researcher!, 'researcher');
    await addMember(app, ws, observer!, 'observer');
    for (const s of [researcher!, observer!]) {
      const res = await putSettings(app, s, ws, { autoRetrieve: true });
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('Only owner or admin can update workspace');
    }
    expect((await putSettings(app, stranger!, ws, { autoRetrieve: true })).status).toBe(403);
    expect((await putSettings(app, admin!, ws, { autoRetrieve: true })).status).toBe(200);
    expect((await app.http.get(`/api/workspaces/${ws}`).set(observer!.auth)).body.data.settings.autoRetrieve).toBe(true);
  });

  it('the system prompt leads every chat of the workspace; without one the prompt is as before', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const ws = await defaultWorkspaceId(app, s);
    const { marker } = await connect(app, s, 'openai');
    const conv = (await app.http.post(`/api/workspaces/${ws}/conversations`).set(s.auth).send({ modelId: 'model-gpt-4o' })).body.data;
    const send = () => app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'Hello' }).expect(201);
    await send();
    expect(lastSystemPrompt(marker)).toBe(BASE_PROMPT);
    await putSettings(app, s, ws, { systemPrompt: 'Always answer in French.' }).expect(200);
    await send();
    expect(lastSystemPrompt(marker)).toBe(`Always answer in French.\n\n${BASE_PROMPT}`);
    await putSettings(app, s, ws, { systemPrompt: null }).expect(200);
    await send();
    expect(lastSystemPrompt(marker)).toBe(BASE_PROMPT);
  });

  it('a conversation created without a model takes the default model; without a default, modelId stays required', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const ws = await defaultWorkspaceId(app, s);
    const create = (body: object) => app.http.post(`/api/workspaces/${ws}/conversations`).set(s.auth).send(body);
    const missing = await create({ title: 'No model' });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toEqual({ modelId: ['This field is required.'] });
    await putSettings(app, s, ws, { defaultModelId: 'model-claude-3.5-sonnet' }).expect(200);
    const defaulted = await create({ title: 'Defaulted' });
    expect(defaulted.status).toBe(201);
    expect(defaulted.body.data.modelId).toBe('model-claude-3.5-sonnet');
    // a model named by the request wins
    expect((await create({ modelId: 'model-gpt-4o' })).body.data.modelId).toBe('model-gpt-4o');
    expect((await create({ modelId: '' })).status).toBe(400);
  });

  it('auto-retrieve set through the API retrieves at most retrievalTopK memories', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const ws = await defaultWorkspaceId(app, s);
    const { marker } = await connect(app, s, 'openai');
    for (const day of ['Monday', 'Tuesday', 'Wednesday']) {
      await createMemory(app, ws, { title: `Deploy ${day}`, content: `The staging cluster deploys on ${day}.` });
    }
    const conv = (await app.http.post(`/api/workspaces/${ws}/conversations`).set(s.auth).send({ modelId: 'model-gpt-4o' })).body.data;
    const ask = async () =>
      (await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'When does the staging cluster deploy?' }).expect(201)).body.data
        .assistantMessage.metadata;
    expect((await ask()).retrievedMemoryIds).toBeUndefined();
    await putSettings(app, s, ws, { autoRetrieve: true, retrievalTopK: 2 }).expect(200);
    expect((await ask()).retrievedMemoryIds).toHaveLength(2);
    expect(lastSystemPrompt(marker)).toContain('=== Retrieved Context ===');
    await putSettings(app, s, ws, { retrievalTopK: 1 }).expect(200);
    expect((await ask()).retrievedMemoryIds).toHaveLength(1);
    await putSettings(app, s, ws, { autoRetrieve: false }).expect(200);
    expect((await ask()).retrievedMemoryIds).toBeUndefined();
  });
}, fake.env);
