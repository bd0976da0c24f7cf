/**
 * File import (M9, §5.13): the upload is already in memory (multer, 10 MB cap); its type is
 * checked by extension and content, its text extracted with paragraphs kept, then stored.
 */
import type { AppDeps } from '../../app-deps.js';
import { badRequest } from '../../http/errors.js';
import { createMemory } from '../memories/service.js';
import { extractFileText, sanitizeFilename, typeFromExtension, UnreadableFile } from './files.js';
import { summarize, tidyText } from './text.js';

export interface FileImportInput {
  originalName: string | undefined;
  bytes: Buffer;
  summarize: boolean;
}

/** A DOCX may inflate to at most this much XML (the upload itself is at most 10 MB). */
const MAX_INFLATED_BYTES = 100 * 1024 * 1024;

export async function importFile(deps: AppDeps, workspaceId: string, authorId: string, input: FileImportInput) {
  const filename = sanitizeFilename(input.originalName);
  if (input.bytes.length === 0) throw badRequest('The uploaded file is empty');
  let content: string;
  let fileType;
  try {
    fileType = typeFromExtension(filename);
    content = tidyText(await extractFileText(input.bytes, fileType, { maxInflatedBytes: MAX_INFLATED_BYTES }));
  } catch (error) {
    if (error instanceof UnreadableFile) throw badRequest(error.message);
    throw error;
  }
  if (content.length < 10) throw badRequest('Could not extract meaningful content from the file');
  const summary = input.summarize ? summarize(content) : { content, summarized: false };
  const stem = filename.includes('.') ? filename.slice(0, filename.lastIndexOf('.')) : filename;
  const memory = await createMemory(deps, {
    workspaceId,
    authorId,
    title: `[File] ${Array.from(stem).slice(0, 100).join('')}`,
    content: summary.content,
    tags: ['imported', 'file-upload', `format:${fileType}`],
    metadata: {
      source_type: 'file',
      original_filename: filename,
      file_type: fileType,
      file_size: input.bytes.length,
      imported_at: new Date().toISOString(),
      was_summarized: summary.summarized,
    },
  });
  return { memory, fileType, originalFilename: filename, wasSummarized: summary.summarized };
}
