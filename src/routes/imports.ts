import type { RequestHandler } from 'express';
import type { AppDeps } from '../app-deps.js';
import { badRequest } from '../http/errors.js';
import { singleFileUpload } from '../http/middleware/upload.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import type { AuthUser } from '../services/auth/tokens.js';
import { authorize, workspaceAccess } from '../policies/index.js';
import { presentMemory } from '../presenters/memory.js';
import { fileImportFields, urlImportBody } from '../schemas/imports.js';
import { importFile } from '../services/imports/file-import.js';
import { importUrl } from '../services/imports/url-import.js';

const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

/** Loads the workspace and checks `memory:import` before the upload is read, so refused callers never stream a file. */
function authorizeImport(deps: AppDeps): RequestHandler {
  return async (req, res, next) => {
    const user = res.locals.user as AuthUser;
    authorize(await workspaceAccess(deps.prisma, user.id, String(req.params.workspaceId)), 'memory:import');
    next();
  };
}

export function importRoutes(deps: AppDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'post', path: '/workspaces/:workspaceId/memories/import-url', operationId: 'M8', tag: 'memories', access: 'user', status: 201,
      summary: 'Import a web page or PDF by URL as a memory (SSRF-safe fetch, readable-article extraction)',
      body: urlImportBody, bodyErrors: 'string',
      responses: {
        400: 'URL is required, refused or unreachable URL, unsupported content, or the import took longer than URL_IMPORT_TIMEOUT',
        403: 'Access denied',
        404: 'Workspace not found',
        413: 'The document expands beyond the allowed size (IMPORT_MAX_INFLATED_BYTES; the message names the limit)',
        422: 'The document is too complex to import: too many elements, nested too deep, or its parse outgrew its deadline or memory (the message names the limit)',
        503: 'Every document parser is busy (Retry-After), or the server is shutting down',
      },
      handler: async ({ deps, user, params, body }) => {
        authorize(await workspaceAccess(deps.prisma, user.id, params.workspaceId!), 'memory:import');
        const result = await importUrl(deps, params.workspaceId!, user.id, body);
        return { memory: presentMemory(result.memory, null), source_type: result.sourceType, was_summarized: result.wasSummarized };
      },
    }),
    defineRoute({
      method: 'post', path: '/workspaces/:workspaceId/memories/import-file', operationId: 'M9', tag: 'memories', access: 'user', status: 201,
      summary: 'Import an uploaded document (pdf, docx, html, txt, md, json, csv, rtf; at most 10 MB) as a memory',
      requestMediaType: 'multipart/form-data',
      before: [authorizeImport(deps), singleFileUpload('file', MAX_UPLOAD_BYTES)],
      body: fileImportFields, bodyErrors: 'string',
      responses: {
        400: 'No file uploaded, unsupported or unreadable file',
        403: 'Access denied',
        404: 'Workspace not found',
        413: 'File too large, or the document expands beyond the allowed size (IMPORT_MAX_INFLATED_BYTES; the message names the limit)',
        422: 'The document is too complex to import: too many elements, nested too deep, or its parse outgrew IMPORT_PARSE_TIMEOUT or its memory (the message names the limit)',
        503: 'Every document parser is busy (Retry-After), or the server is shutting down',
      },
      handler: async ({ deps, user, params, body, req }) => {
        if (!req.file) throw badRequest('No file uploaded');
        const result = await importFile(deps, params.workspaceId!, user.id, { originalName: req.file.originalname, bytes: req.file.buffer, summarize: body.summarize });
        return {
          memory: presentMemory(result.memory, null),
          file_type: result.fileType,
          original_filename: result.originalFilename,
          was_summarized: result.wasSummarized,
        };
      },
    }),
  ];
}
