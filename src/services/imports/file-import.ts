/**
 * File import (M9, §5.13): the upload is already in a temporary file (multer, 10 MB cap); its
 * type is told by its content and its extension here (D16), and its content checked again in
 * a parser process, which extracts its text with paragraphs kept (within the document limits)
 * before it is stored.
 */
import { readFile } from 'node:fs/promises';
import type { AppDeps } from '../../app-deps.js';
import { badRequest } from '../../lib/errors.js';
import { createMemory } from '../memories/service.js';
import { DocumentRejected } from './document-limits.js';
import { type FileType, fileTypeOf, sanitizeFilename } from './files.js';
import { extractiveSummary, modelSummary, summaryWriter } from './summary.js';

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
    // Read once for the sniff (asynchronous I/O; the checks are linear and stop early), then
    // released: the parser process reads the file itself.
    fileType = fileTypeOf(filename, await readFile(input.path));
  } catch (error) {
    if (error instanceof DocumentRejected) throw badRequest(error.message);
    throw error;
  }
  const writer = input.summarize ? await summaryWriter(deps, authorId) : null;
  // The parser writes the extractive summary; a model's needs the whole text.
  const parsed = await deps.documentParser.parse({ kind: 'file', type: fileType, path: input.path, summarize: input.summarize && !writer });
  if (parsed.extractedChars < 10) throw badRequest('Could not extract meaningful content from the file');
  const summary = writer ? await modelSummary(deps, parsed.content, writer, deps.config.llm.timeoutMs) : extractiveSummary(parsed);
  const stem = filename.includes('.') ? filename.slice(0, filename.lastIndexOf('.')) : filename;
  const memory = await createMemory(deps.prisma, deps.embeddings, {
    workspaceId,
    authorId,
    provenance: { source: 'user', userId: authorId },
    title: `[File] ${Array.from(stem).slice(0, 100).join('')}`,
    content: summary.content,
    tags: ['imported', 'file-upload', `format:${fileType}`],
    metadata: {
      source_type: 'file',
      original_filename: filename,
      file_type: fileType,
      file_size: input.size,
      imported_at: new Date().toISOString(),
      was_summarized: summary.summarized,
      ...(summary.record && { summary: summary.record }),
    },
  });
  return { memory, fileType, originalFilename: filename, wasSummarized: summary.summarized };
}
