import type { AppDeps } from '../app-deps.js';
import { badRequest } from '../lib/errors.js';
import { singleFileUpload } from '../http/middleware/upload.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { workspace } from '../policies/index.js';
import { presentMemory } from '../presenters/memory.js';
import { fileImportFields, urlImportBody } from '../schemas/imports.js';
import { importFile } from '../services/imports/file-import.js';
import { importUrl } from '../services/imports/url-import.js';
import { FileImport, UrlImport } from '../schemas/responses/memories.js';

const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

export function importRoutes(deps: AppDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'post', path: '/workspaces/:workspaceId/memories/import-url', operationId: 'importMemoryFromUrl', contractId: 'M8', response: UrlImport, tag: 'memories', access: 'user', policy: workspace.can('import-memories'), status: 201,
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
      handler: async ({ deps, user, subject, body }) => {
        const result = await importUrl(deps, subject.id, user.id, body);
        return { memory: presentMemory(result.memory, null), source_type: result.sourceType, was_summarized: result.wasSummarized };
      },
    }),
    defineRoute({
      method: 'post', path: '/workspaces/:workspaceId/memories/import-file', operationId: 'importMemoryFromFile', contractId: 'M9', response: FileImport, tag: 'memories', access: 'user', policy: workspace.can('import-memories'), status: 201,
      summary: 'Import an uploaded document (pdf, docx, html, txt, md, json, csv, rtf; at most 10 MB) as a memory',
      requestMediaType: 'multipart/form-data',
      // The policy has refused outsiders before the upload is read: they never stream a file.
      before: [singleFileUpload('file', MAX_UPLOAD_BYTES)],
      body: fileImportFields, bodyErrors: 'string',
      responses: {
        400: 'No file uploaded, unsupported or unreadable file',
        403: 'Access denied',
        404: 'Workspace not found',
        413: 'File too large, or the document expands beyond the allowed size (IMPORT_MAX_INFLATED_BYTES; the message names the limit)',
        422: 'The document is too complex to import: too many elements, nested too deep, or its parse outgrew IMPORT_PARSE_TIMEOUT or its memory (the message names the limit)',
        503: 'Every document parser is busy (Retry-After), or the server is shutting down',
      },
      handler: async ({ deps, user, subject, body, req }) => {
        if (!req.file) throw badRequest('No file uploaded');
        const result = await importFile(deps, subject.id, user.id, { originalName: req.file.originalname, path: req.file.path, size: req.file.size, summarize: body.summarize });
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
