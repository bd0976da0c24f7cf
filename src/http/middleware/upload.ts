/**
 * One multipart file, at most `maxBytes` (multer/busboy enforce the cap while streaming),
 * written to a temporary file as it arrives and removed once the response is over. On disk
 * rather than in memory: the file is handed to a parser process by its path, so the request
 * loop never concatenates a 10 MB upload nor copies it into a message to a child (both showed
 * as stalls of the loop while uploads arrived). Every multer failure becomes a string error,
 * because the frontend shows the import error text as-is.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Request, RequestHandler } from 'express';
import type Multer from 'multer';
import { AppError, badRequest, payloadTooLarge } from '../../lib/errors.js';

const MB = 1024 * 1024;

/** The directories made for a request's upload: removed with whatever is in them once its response is over. */
const uploadDirs = new WeakMap<Request, string[]>();

function removeUploads(req: Request): void {
  for (const dir of uploadDirs.get(req)?.splice(0) ?? []) void rm(dir, { recursive: true, force: true });
}

/** multer, loaded by the first upload: a server that is never sent a file never loads it. */
let multerModule: Promise<typeof Multer> | null = null;
const loadMulter = () => (multerModule ??= import('multer').then((m) => m.default));

export function singleFileUpload(field: string, maxBytes: number): RequestHandler {
  const parser = async () => {
    const multer = await loadMulter();
    return multer({
      storage: multer.diskStorage({
        // A directory of its own (mode 0700: other local users cannot read the upload).
        destination: (req, _file, done) => {
          mkdtemp(join(tmpdir(), 'chimera-upload-')).then(
            (dir) => {
              uploadDirs.set(req, [...(uploadDirs.get(req) ?? []), dir]);
              done(null, dir);
            },
            (error: Error) => done(error, ''),
          );
        },
      }),
      defParamCharset: 'utf8',
      limits: { fileSize: maxBytes, files: 1, fields: 10, fieldSize: 64 * 1024, parts: 12 },
    }).single(field);
  };
  let parse: Promise<RequestHandler> | null = null;
  return (req, res, next) => {
    if (!req.is('multipart/form-data')) return next(badRequest('No file uploaded'));
    // The upload is removed when the response is over, however it ends (answered, failed, or the client gone).
    res.once('close', () => removeUploads(req));
    (parse ??= parser()).then(
      (handler) =>
        handler(req, res, (error?: unknown) => {
          if (res.closed) removeUploads(req);
          next(error ? uploadError(error, field, maxBytes) : undefined);
        }),
      (error: unknown) => next(error),
    );
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
