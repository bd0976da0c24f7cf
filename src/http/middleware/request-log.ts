/**
 * Request ids and one log line per finished request: id, method, path (never the query
 * string), status and duration. Bodies and headers are never logged: they carry passwords,
 * tokens and API keys. Cheaper than a per-request child logger on the hot path.
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';

declare module 'http' {
  interface IncomingMessage {
    id: string;
  }
}

const VALID_ID = /^[\w.-]{1,64}$/;

export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const given = req.headers['x-request-id'];
    req.id = typeof given === 'string' && VALID_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', req.id);
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const status = res.statusCode;
      const level = status >= 500 ? 'error' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger[level]({ reqId: req.id, method: req.method, path: req.originalUrl.split('?')[0], status, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}
