/**
 * The HTTP server builds request and response objects already shaped as Express's: their
 * prototypes are app.request and app.response before Express dispatches, so every request
 * shares one hidden class (checked in V8 itself) and Express behaves as with a plain server.
 */
import { execFile } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createHttpServer, expressShapedClasses } from '../../src/fast/http-server.js';

function sampleApp() {
  const app = express();
  app.get('/things/:id', (req, res) => {
    res.set('X-Seen', 'yes').status(201).json({ id: req.params.id, path: req.path, query: req.query, ip: req.ip, xhr: req.xhr });
  });
  return app;
}

describe('createHttpServer', () => {
  it('hands Express requests and responses whose prototypes already are app.request and app.response', async () => {
    const app = sampleApp();
    const before: boolean[] = [];
    const server = createHttpServer(app, (req, res) => {
      before.push(Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response);
      app(req, res);
    });
    const res = await request(server).get('/things/7?a=1&b=2').set('X-Requested-With', 'XMLHttpRequest');
    expect(before).toEqual([true]);
    expect(res.status).toBe(201);
    expect(res.headers['x-seen']).toBe('yes');
    expect(res.body).toEqual({ id: '7', path: '/things/7', query: { a: '1', b: '2' }, ip: expect.any(String), xhr: true });
    expect(res.headers.etag).toMatch(/^W\//);
  });

  it('keeps what Express puts on app.request and app.response, and shapes each app once', () => {
    const app = sampleApp();
    const expressRequest = Object.getPrototypeOf(app.request);
    const first = expressShapedClasses(app);
    expect(expressShapedClasses(app)).toBe(first);
    expect(app.request.app).toBe(app);
    expect(app.response.app).toBe(app);
    expect(Object.getPrototypeOf(app.request)).toBe(expressRequest);
    expect(new first.IncomingMessage(null as never) as IncomingMessage).toBeInstanceOf(first.IncomingMessage);
  });

  it('gives every request and response of a keep-alive connection the same V8 hidden class', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', 'tests/support/shared-shapes.ts'], { timeout: 60_000 });
    const result = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(result.pairs).toBe(59);
    expect(result).toEqual({ pairs: 59, requests: 59, responses: 59 });
  }, 60_000);
});
