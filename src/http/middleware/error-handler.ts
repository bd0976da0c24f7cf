/**
 * Maps every failure to the envelope. Known causes get their 4xx; database outages and an
 * exhausted connection pool a 503;
 * anything else a generic 500 whose details stay in the log.
 */
import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { Prisma } from '../../generated/prisma/client.js';
import { failure, sendEnvelope } from '../envelope.js';
import { AppError } from '../../lib/errors.js';

const DB_DOWN = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection terminated|connection timeout|timeout exceeded when trying to connect|Can't reach database|terminating connection|the database system is (starting|shutting) up|Closed|server closed the connection/i;

function fromFramework(error: unknown): AppError | null {
  const e = error as { type?: string; status?: number; message?: string; code?: string; name?: string };
  // A path with a broken percent-escape (`%`, `%E0%A4%A`, an encoded lone surrogate) cannot name anything.
  if (error instanceof URIError) return new AppError(400, 'Malformed URL: invalid percent-encoding');
  if (e?.type === 'entity.parse.failed') return new AppError(400, `JSON parse error - ${e.message}`);
  if (e?.type === 'entity.too.large') return new AppError(413, 'Request body too large');
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') return new AppError(415, 'Unsupported content encoding');
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && e.type) return new AppError(e.status, e.message ?? 'Bad request');
  // A body that is not the gzip/deflate/brotli its Content-Encoding claims (zlib's own error, status 400).
  if (typeof e?.code === 'string' && /^(?:Z_|ERR_BROTLI|ERR__ERROR_FORMAT_PADDING_1)/.test(e.code)) return new AppError(400, 'Malformed compressed request body');
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    if (error.code === 'P2025') return new AppError(404, 'Not found');
    if (error.code === 'P2002') return new AppError(400, 'Already exists');
    if (error.code === 'P2003') return new AppError(400, 'Related resource not found');
    if (error.code === 'P2000') return new AppError(400, 'Value too long for a field');
    if (error.code === 'P1001' || error.code === 'P1002' || error.code === 'P1017') return new AppError(503, 'Database unavailable');
    // Every pooled connection stayed busy for longer than a transaction may wait to start:
    // overload, which passes; the transaction never began, so nothing was written.
    if (error.code === 'P2028') return new AppError(503, 'Database busy');
  }
  if (error instanceof Prisma.PrismaClientInitializationError) return new AppError(503, 'Database unavailable');
  // Last line of defence for input the validation let through: PostgreSQL refuses NUL in text and JSON.
  if (/invalid byte sequence for encoding "UTF8": 0x00|unsupported Unicode escape sequence/.test(String(e?.message))) return new AppError(400, 'Null characters are not allowed.');
  const text = `${e?.message ?? ''} ${e?.code ?? ''} ${(error as { cause?: { message?: string } })?.cause?.message ?? ''}`;
  if (DB_DOWN.test(text)) return new AppError(503, 'Database unavailable');
  return null;
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const known = error instanceof AppError ? error : fromFramework(error);
    if (res.headersSent) {
      logger.error({ err: error, reqId: req.id }, 'error after the response started');
      res.end();
      return;
    }
    if (known) {
      for (const [k, v] of Object.entries(known.headers)) res.setHeader(k, v);
      if (known.status === 503) res.setHeader('Retry-After', '5');
      sendEnvelope(res, known.status, failure(known.error, known.data));
      return;
    }
    logger.error({ err: error, reqId: req.id }, 'unhandled error');
    sendEnvelope(res, 500, failure('Internal server error'));
  };
}
