/**
 * Uploaded documents → text (D16). The type comes from the extension AND the bytes: a PDF
 * must start like a PDF, a DOCX must be a (safe) zip, and text formats must decode to text,
 * so a renamed binary is refused instead of being stored as garbage. Runs in a parser child
 * process (parser-pool.ts), and checks the document limits before each parser starts.
 */
import { DocumentLimits, DocumentRejected } from './document-limits.js';
import { extractHtml } from './html.js';
import { type ElementTally, scanMarkup } from './markup-scan.js';
import { assertPdfInflationWithin } from './pdf-guard.js';
import { rtfText } from './rtf.js';
import { decodeText, tidyText, utf16Endianness } from './text.js';
import { assertSafeZip } from './zip-guard.js';

export type FileType = 'text' | 'markdown' | 'pdf' | 'docx' | 'html' | 'json' | 'csv' | 'rtf';

const BY_EXTENSION: Record<string, FileType> = {
  txt: 'text', md: 'markdown', markdown: 'markdown', pdf: 'pdf', docx: 'docx', html: 'html', htm: 'html', json: 'json', csv: 'csv', rtf: 'rtf',
};

export const UNSUPPORTED_TYPE = 'Unsupported file type. Supported: .pdf, .docx, .txt, .md, .html, .json, .csv';

/** Cleans a client-supplied filename for storing and echoing: never a path, no control characters. */
export function sanitizeFilename(name: string | undefined): string {
  const base = (name ?? '').normalize('NFC').split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .replace(/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/^[\s.]+/, '')
    .trim();
  return Array.from(cleaned).slice(0, 200).join('') || 'upload';
}

export function extensionOf(filename: string): string {
  const dot = filename.lastIndexOf('.');
  return dot > 0 ? filename.slice(dot + 1).toLowerCase() : '';
}

/** The file type from the extension; DocumentRejected (400) when it is not one we read. */
export function typeFromExtension(filename: string): FileType {
  const ext = extensionOf(filename);
  if (ext === 'doc') throw new DocumentRejected('Legacy .doc format is not supported. Please convert to .docx');
  const type = BY_EXTENSION[ext];
  if (!type) throw new DocumentRejected(UNSUPPORTED_TYPE);
  return type;
}

const startsWith = (bytes: Buffer, signature: number[]) => signature.every((b, i) => bytes[i] === b);
const BINARY_SIGNATURES = [
  [0x25, 0x50, 0x44, 0x46], // %PDF
  [0x50, 0x4b, 0x03, 0x04], // zip (docx, xlsx, jar…)
  [0x89, 0x50, 0x4e, 0x47], // PNG
  [0xff, 0xd8, 0xff], // JPEG
  [0x47, 0x49, 0x46, 0x38], // GIF
  [0x1f, 0x8b], // gzip
  [0x7f, 0x45, 0x4c, 0x46], // ELF
  [0x4d, 0x5a], // Windows executable
  [0xd0, 0xcf, 0x11, 0xe0], // OLE (legacy .doc, .xls)
];

export const isPdf = (bytes: Buffer) => bytes.subarray(0, 1024).includes('%PDF-');

/** True when the bytes look like text in some encoding (no binary signature, few control bytes). */
export function looksLikeText(bytes: Buffer): boolean {
  if (BINARY_SIGNATURES.some((sig) => startsWith(bytes, sig))) return false;
  const bom16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  if (bom16 || utf16Endianness(bytes)) return true;
  const sample = bytes.subarray(0, 8192);
  let control = 0;
  for (const b of sample) {
    if (b === 0) return false;
    if (b < 0x09 || (b > 0x0d && b < 0x20)) control++;
  }
  return control <= sample.length * 0.02;
}

const MISMATCH = (type: FileType) => `The file content does not match its extension (.${type === 'text' ? 'txt' : type === 'markdown' ? 'md' : type})`;

/** Extracts the text of an upload whose extension gave `type`; paragraphs are kept. */
export async function extractFileText(bytes: Buffer, type: FileType, limits: DocumentLimits): Promise<string> {
  switch (type) {
    case 'pdf':
      if (!isPdf(bytes)) throw new DocumentRejected(MISMATCH(type));
      return pdfText(bytes, limits);
    case 'docx':
      if (!startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) throw new DocumentRejected(MISMATCH(type));
      return docxText(bytes, limits);
    default: {
      if (!looksLikeText(bytes)) throw new DocumentRejected(MISMATCH(type));
      const text = decodeText(bytes);
      if (type === 'html') return (await extractHtml(text, limits, false)).text;
      if (type === 'json') return prettyJson(text);
      if (type === 'csv') return csvRows(text).map((row) => row.join(' | ')).join('\n');
      if (type === 'rtf') return rtfText(text);
      return text;
    }
  }
}

// pdf.js and mammoth are loaded on first use: together they add over a second to a parser's start.
export const loadPdfJs = () => import('pdf-parse');
export const loadMammoth = () => import('mammoth');

/** PDF text, pages separated by blank lines. */
export async function pdfText(bytes: Buffer, limits: DocumentLimits): Promise<string> {
  assertPdfInflationWithin(bytes, limits.maxInflatedBytes);
  const { PDFParse } = await loadPdfJs();
  const parser = new PDFParse({ data: new Uint8Array(bytes) });
  try {
    const result = await parser.getText();
    return result.pages.map((page) => tidyText(page.text)).join('\n\n');
  } catch (error) {
    throw new DocumentRejected(`Could not read the PDF: ${String((error as Error)?.message ?? error).slice(0, 100)}`);
  } finally {
    await parser.destroy().catch(() => undefined);
  }
}

const MAX_DOCX_PARTS = 2000;

async function docxText(bytes: Buffer, limits: DocumentLimits): Promise<string> {
  // Every part that holds markup counts, whatever its name: the main document can be any part the relationships name.
  const tally: ElementTally = { elements: 0 };
  assertSafeZip(bytes, { maxEntries: MAX_DOCX_PARTS, maxTotalBytes: limits.maxInflatedBytes }, (_name, content) => {
    if (looksLikeMarkup(content)) scanMarkup(content.toString('latin1'), 'xml', limits, tally);
  });
  try {
    const { default: mammoth } = await loadMammoth();
    const { value } = await mammoth.extractRawText({ buffer: bytes });
    return value;
  } catch (error) {
    throw new DocumentRejected(`Could not read the .docx document: ${String((error as Error)?.message ?? error).slice(0, 100)}`);
  }
}

/** Content starting with `<` (after a BOM or whitespace): XML, as opposed to media. */
function looksLikeMarkup(content: Buffer): boolean {
  for (let i = 0; i < Math.min(content.length, 64); i++) {
    const b = content[i]!;
    if (b === 0x3c) return true;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0xef && b !== 0xbb && b !== 0xbf) return false;
  }
  return false;
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** RFC 4180 rows: quoted fields may hold commas, quotes ("") and newlines. */
export function csvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field.trim());
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field.trim());
      if (row.some(Boolean)) rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  row.push(field.trim());
  if (row.some(Boolean)) rows.push(row);
  return rows;
}
