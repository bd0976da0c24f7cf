/**
 * One document to text, as a parser child process runs it: an uploaded file (read here from
 * the temporary file the upload was written to) or a fetched page is extracted within the
 * document limits, tidied, cut to the caller's length, and summarised when asked, so that
 * nothing proportional to the document's size is left for the request loop.
 */
import { readFile } from 'node:fs/promises';
import type { DocumentLimits } from './document-limits.js';
import { extractFileText, type FileType, isPdf, loadMammoth, loadPdfJs, pdfText } from './files.js';
import { extractHtml, loadDom } from './html.js';
import { decodeText, summarize, tidyText } from './text.js';

export type ParseJob =
  | {
      kind: 'file';
      type: FileType;
      /** The uploaded file on disk; the request removes it once answered. */
      path: string;
      summarize: boolean;
    }
  | {
      kind: 'page';
      /** The page's Content-Type (without parameters) and charset. */
      contentType: string;
      charset: string | null;
      body: Uint8Array;
      summarize: boolean;
      /** Longer content is cut here and marked `[truncated]`. */
      maxChars: number;
      /** Title of a PDF, which has no <title> (the URL's file name). */
      pdfTitle: string | null;
    };

export interface ParsedDocument {
  /** The page's title, whitespace collapsed, at most 200 characters; null when it has none. */
  title: string | null;
  /** The stored text: tidied, cut and summarised as asked. */
  content: string;
  /** Characters extracted, before any cut or summary (the "meaningful content" checks use it). */
  extractedChars: number;
  summarized: boolean;
}

export type ParseRequest = ParseJob & { limits: DocumentLimits };

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export async function parseJob(request: ParseRequest): Promise<ParsedDocument> {
  const { title, text } = await extract(request);
  let content = tidyText(text);
  const extractedChars = content.length;
  if (request.kind === 'page' && content.length > request.maxChars) content = `${content.slice(0, request.maxChars)}\n[truncated]`;
  const summary = request.summarize ? summarize(content) : { content, summarized: false };
  return { title: title === null ? null : tidyText(title).replace(/\s+/g, ' ').slice(0, 200) || null, content: summary.content, extractedChars, summarized: summary.summarized };
}

/** How a fetched page is read: a PDF (by type or by its bytes), plain text, or HTML. */
function pageFormat(request: Extract<ParseRequest, { kind: 'page' }>): 'pdf' | 'text' | 'html' {
  if (request.contentType === 'application/pdf' || isPdf(asBuffer(request.body))) return 'pdf';
  return request.contentType === 'text/plain' ? 'text' : 'html';
}

/** Loads the parser library the job needs (once per process), before the job's deadline starts. */
export async function loadParsers(request: ParseRequest): Promise<void> {
  const format = request.kind === 'file' ? request.type : pageFormat(request);
  if (format === 'pdf') await loadPdfJs();
  else if (format === 'docx') await loadMammoth();
  else if (format === 'html') await loadDom();
}

async function extract(request: ParseRequest): Promise<{ title: string | null; text: string }> {
  if (request.kind === 'file') return { title: null, text: await extractFileText(await readFile(request.path), request.type, request.limits) };
  const body = asBuffer(request.body);
  const format = pageFormat(request);
  if (format === 'pdf') return { title: request.pdfTitle, text: await pdfText(body, request.limits) };
  const text = decodeText(body, request.charset);
  return format === 'text' ? { title: null, text } : extractHtml(text, request.limits);
}
