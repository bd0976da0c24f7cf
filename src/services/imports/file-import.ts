/**
 * File import (M9, §5.13): the upload is already in a temporary file (multer, 10 MB cap); its type is
 * checked by extension here, and by content in a parser process, which extracts its text with
 * paragraphs kept (within the document limits) before it is stored.
 */
import type { AppDeps } from '../../app-deps.js';
import { badRequest } from '../../http/errors.js';
import { createMemory } from '../memories/service.js';
import { DocumentRejected } from './document-limits.js';
import { type FileType, sanitizeFilename, typeFromExtension } from './files.js';

export interface FileImportInput {
  originalName: string | undefined;
  /** The uploaded file on disk, and its size in bytes. */
  path: string;
  size: number;
  summarize: boolean;
}

export async function importFile(deps: AppDeps, workspaceId: string, authorId: string, input: FileImportInput) {
  const filename = sanitizeFilename(input.originalName);
  if (input.size === 0) throw badRequest('The uploaded file is empty');
  let fileType: FileType;
  try {
    fileType = typeFromExtension(filename);
  } catch (error) {
    if (error instanceof DocumentRejected) throw badRequest(error.message);
    throw error;
  }
  const parsed = await deps.documentParser.parse({ kind: 'file', type: fileType, path: input.path, summarize: input.summarize });
  if (parsed.extractedChars < 10) throw badRequest('Could not extract meaningful content from the file');
  const stem = filename.includes('.') ? filename.slice(0, filename.lastIndexOf('.')) : filename;
  const memory = await createMemory(deps, {
    workspaceId,
    authorId,
    title: `[File] ${Array.from(stem).slice(0, 100).join('')}`,
    content: parsed.content,
    tags: ['imported', 'file-upload', `format:${fileType}`],
    metadata: {
      source_type: 'file',
      original_filename: filename,
      file_type: fileType,
      file_size: input.size,
      imported_at: new Date().toISOString(),
      was_summarized: parsed.summarized,
    },
  });
  return { memory, fileType, originalFilename: filename, wasSummarized: parsed.summarized };
}
