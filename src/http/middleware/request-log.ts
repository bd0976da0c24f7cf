/**
 * Request ids and one log line per finished request: id, method, path (never the query
 * string), status and duration. Bodies and headers are never logged: they carry passwords,
 * tokens and API keys. The line is written from Node's `http.server.response.finish`
 * diagnostics channel, one process-wide subscriber, so a request costs no listener, closure
 * or child logger of its own.
 */
import { randomUUID } from 'node:crypto';
import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';

declare module 'http' {
  interface IncomingMessage {
    id: string;
  }
}

const VALID_ID = /^[\w.-]{1,64}$/;

/** What the finish subscriber needs of a request: whose logger, and since when. */
const LOGGED = Symbol('request log');
interface LoggedRequest extends IncomingMessage {
  [LOGGED]?: { logger: Logger; started: bigint };
  originalUrl?: string;
}

function logFinished({ request, response }: { request: LoggedRequest; response: ServerResponse }): void {
  const entry = request[LOGGED];
  if (!entry) return;
  const status = response.statusCode;
  const level = status >= 500 ? 'error' : 'info';
  if (!entry.logger.isLevelEnabled(level)) return;
  const ms = Number(process.hrtime.bigint() - entry.started) / 1e6;
  const path = (request.originalUrl ?? request.url ?? '').split('?')[0];
  entry.logger[level]({ reqId: request.id, method: request.method, path, status, ms: Math.round(ms * 10) / 10 }, 'request');
}

let subscribed = false;

export function requestLog(logger: Logger): RequestHandler {
  if (!subscribed) {
    subscribe('http.server.response.finish', logFinished as (message: unknown) => void);
    subscribed = true;
  }
  return (req, res, next) => {
    const given = req.headers['x-request-id'];
    req.id = typeof given === 'string' && VALID_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', req.id);
    (req as LoggedRequest)[LOGGED] = { logger, started: process.hrtime.bigint() };
    next();
  };
}
