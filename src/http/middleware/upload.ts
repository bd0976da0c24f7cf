/**
 * One multipart file in memory, at most `maxBytes` (multer/busboy enforce the cap while
 * streaming). Every multer failure becomes a string error, because the frontend shows the
 * import error text as-is.
 */
import type { RequestHandler } from 'express';
import multer from 'multer';
import { AppError, badRequest, payloadTooLarge } from '../../lib/errors.js';

const MB = 1024 * 1024;

export function singleFileUpload(field: string, maxBytes: number): RequestHandler {
  const parse = multer({
    storage: multer.memoryStorage(),
    defParamCharset: 'utf8',
    limits: { fileSize: maxBytes, files: 1, fields: 10, fieldSize: 64 * 1024, parts: 12 },
  }).single(field);
  return (req, res, next) => {
    if (!req.is('multipart/form-data')) return next(badRequest('No file uploaded'));
    parse(req, res, (error?: unknown) => next(error ? uploadError(error, field, maxBytes) : undefined));
  };
}

function uploadError(error: unknown, field: string, maxBytes: number): AppError {
  const code = (error as { code?: string }).code;
  switch (code) {
    case 'LIMIT_FILE_SIZE':
      return payloadTooLarge(`File too large. Maximum size is ${Math.round(maxBytes / MB)} MB.`);
    case 'LIMIT_FILE_COUNT':
      return badRequest('Only one file can be uploaded at a time');
    case 'LIMIT_UNEXPECTED_FILE':
      return badRequest(`Unexpected file field; send the file in the "${field}" field`);
    case 'LIMIT_PART_COUNT':
    case 'LIMIT_FIELD_COUNT':
    case 'LIMIT_FIELD_KEY':
    case 'LIMIT_FIELD_VALUE':
      return badRequest('Too many or too large form fields');
    default:
      return badRequest('Malformed multipart body');
  }
}
