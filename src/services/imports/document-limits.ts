/**
 * The limits an imported document is parsed within, and the one error type for a document
 * the importer refuses: 400 when it cannot be read, 413 when it expands past the size limit,
 * 422 when it is too complex (too many elements, nested too deep, too slow or too big to parse).
 * Each message names the limit, so the user knows what to change.
 */
export interface DocumentLimits {
  /** Total bytes a compressed document (DOCX parts, PDF streams) may expand to. */
  maxInflatedBytes: number;
  /** Markup elements (HTML tags, XML elements across a DOCX's parts) at most. */
  maxElements: number;
  /** Markup nesting depth at most. */
  maxDepth: number;
}

export type RefusalStatus = 400 | 413 | 422;

export class DocumentRejected extends Error {
  constructor(
    message: string,
    readonly status: RefusalStatus = 400,
  ) {
    super(message);
    this.name = 'DocumentRejected';
  }
}

export function formatBytes(bytes: number): string {
  const MB = 1024 * 1024;
  if (bytes >= MB) return `${Math.round((bytes / MB) * 10) / 10} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

export const expandsTooMuch = (maxBytes: number) =>
  new DocumentRejected(`The document expands beyond the allowed size (limit ${formatBytes(maxBytes)} uncompressed)`, 413);

const tooComplex = (detail: string) => new DocumentRejected(`The document is too complex to import (${detail})`, 422);
export const tooManyElements = (max: number) => tooComplex(`more than ${max} elements`);
export const nestedTooDeep = (max: number) => tooComplex(`nested more than ${max} levels deep`);
export const tooManyParts = (max: number) => tooComplex(`more than ${max} parts`);
export const parseTooSlow = (ms: number) => tooComplex(`parsing took longer than ${seconds(ms)}`);
export const parseTooBig = (memoryMb: number) => tooComplex(`parsing needed more than ${memoryMb} MB of memory`);
export const parserStopped = () => new DocumentRejected('The document could not be parsed (the parser stopped unexpectedly)', 422);
export const unparseable = () => new DocumentRejected('The document could not be parsed', 422);
