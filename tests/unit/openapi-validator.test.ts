/** The response check of the HTTP suites (tests/support/openapi-validator.ts) refuses what the document does not describe. */
import { describe, expect, it } from 'vitest';
import { checkResponse } from '../support/openapi-validator.js';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const user = { id: '3f2b8c1e-5d4a-4b6f-9e21-7a0c9d8e1f23', name: 'Ada', email: 'ada@example.com', avatar: null, createdAt: '2025-12-08T06:43:35.123Z' };
const JSON_TYPE = 'application/json; charset=utf-8';

describe('response check against openapi.yaml', () => {
  it('passes a documented status with a body of its schema', () => {
    expect(checkResponse('GET', '/api/auth/profile', 200, JSON_TYPE, json({ ok: true, data: user, error: null }))).toBeNull();
    expect(checkResponse('GET', '/api/auth/profile/', 401, JSON_TYPE, json({ ok: false, data: null, error: 'Authentication credentials were not provided.' }))).toBeNull();
    expect(checkResponse('GET', '/api/auth/profile', 304, undefined, Buffer.alloc(0))).toBeNull();
  });

  it('fails a missing field, an extra field, a wrong type and a wrong envelope', () => {
    const { email: _, ...withoutEmail } = user;
    expect(checkResponse('GET', '/api/auth/profile', 200, JSON_TYPE, json({ ok: true, data: withoutEmail, error: null }))).toMatch(/must have required property 'email'/);
    expect(checkResponse('GET', '/api/auth/profile', 200, JSON_TYPE, json({ ok: true, data: { ...user, secret: 1 }, error: null }))).toMatch(/additional properties \(secret\)/);
    expect(checkResponse('GET', '/api/auth/profile', 200, JSON_TYPE, json({ ok: true, data: { ...user, createdAt: 'yesterday' }, error: null }))).toMatch(/must match format "date-time"/);
    expect(checkResponse('GET', '/api/auth/profile', 200, JSON_TYPE, json({ ok: false, data: user, error: null }))).toMatch(/must be equal to constant/);
  });

  it('fails an undocumented status and an undocumented media type', () => {
    expect(checkResponse('GET', '/api/auth/profile', 418, JSON_TYPE, json({ ok: false, data: null, error: 'teapot' }))).toMatch(/status not in the document/);
    expect(checkResponse('GET', '/api/auth/profile', 200, 'text/html', Buffer.from('<p>'))).toMatch(/media type text\/html not in the document/);
  });

  it('picks the literal path before a parameter, and checks each event of a stream', () => {
    expect(checkResponse('POST', '/api/memories/search', 200, JSON_TYPE, json({ ok: true, data: { mode: 'recent', results: [], total: 0 }, error: null }))).toBeNull();
    const stream = (event: string, data: unknown) => Buffer.from(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    expect(checkResponse('POST', '/api/conversations/conv-0a1b2c3d4e5f/messages', 200, 'text/event-stream', stream('delta', { text: 'Hi' }))).toBeNull();
    expect(checkResponse('POST', '/api/conversations/conv-0a1b2c3d4e5f/messages', 200, 'text/event-stream', stream('delta', { words: 'Hi' }))).toMatch(/event delta/);
    const citation = { memoryId: null, title: 'Gone', score: null, how: 'injected' };
    expect(checkResponse('POST', '/api/conversations/conv-0a1b2c3d4e5f/messages', 200, 'text/event-stream', stream('citations', { citations: [citation] }))).toBeNull();
    expect(checkResponse('POST', '/api/conversations/conv-0a1b2c3d4e5f/messages', 200, 'text/event-stream', stream('citations', { citations: [{ ...citation, how: 'guessed' }] }))).toMatch(/event citations/);
    expect(checkResponse('POST', '/api/conversations/conv-0a1b2c3d4e5f/messages', 200, 'text/event-stream', stream('progress', {}))).toMatch(/event "progress" not in the document/);
  });

  it('leaves alone what is not an operation (the 404 of an unknown path)', () => {
    expect(checkResponse('GET', '/api/nothing-here', 404, JSON_TYPE, json({ ok: false, data: null, error: 'Not found' }))).toBeNull();
  });
});
