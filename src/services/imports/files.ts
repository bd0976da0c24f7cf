/**
 * Uploaded documents → text (D16). The type comes from the content as well as the extension
 * (`fileTypeOf`, on the request loop, reading only what costs little): a PDF or DOCX is
 * recognised by its bytes whatever its name, and a file without a usable extension by what
 * its text looks like. The extraction then checks the bytes again (a PDF must start like a
 * PDF, a DOCX must be a safe zip, text formats must decode to text), so a renamed binary is
 * refused instead of being stored as garbage. Extraction runs in a parser child process
 * (parser-pool.ts), and checks the document limits before each parser starts.
 */
import { isUtf8 } from 'node:buffer';
import { DocumentLimits, DocumentRejected } from './document-limits.js';
import { extractHtml } from './html.js';
import { type ElementTally, scanMarkup } from './markup-scan.js';
import { assertPdfInflationWithin } from './pdf-guard.js';
import { rtfText } from './rtf.js';
import { decodeText, tidyText, utf16Endianness } from './text.js';
import { assertSafeZip, zipEntryNames } from './zip-guard.js';

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

/**
 * The type of an upload (D16), from its content where that decides and its extension otherwise:
 * - the bytes of a PDF or a DOCX make it one, whatever its name;
 * - an extension we read keeps its type when the content fits it (as before: the parser
 *   checks the content again, and a .txt of JSON stays text);
 * - without one (no extension, an unknown one, or one the content does not fit) the content
 *   decides: RTF, HTML or JSON by how its text starts, else plain text;
 * - anything else is refused (400) as before: a mismatch with the extension, legacy .doc, or
 *   an unsupported type.
 * Only bounded prefixes are read, except the UTF-8 check (native and fast).
 */
export function fileTypeOf(filename: string, bytes: Buffer): FileType {
  const binary = binaryTypeOf(bytes);
  if (binary) return binary;
  const ext = extensionOf(filename);
  const named = BY_EXTENSION[ext];
  if (named && fitsType(named, bytes)) return named;
  const textual = textTypeOf(bytes);
  if (textual) return textual;
  if (ext === 'doc') throw new DocumentRejected('Legacy .doc format is not supported. Please convert to .docx');
  throw new DocumentRejected(named ? MISMATCH(named) : UNSUPPORTED_TYPE);
}

const ZIP = [0x50, 0x4b, 0x03, 0x04];

/** PDF when the file starts with its header; DOCX when it is a zip holding WordprocessingML parts. */
function binaryTypeOf(bytes: Buffer): 'pdf' | 'docx' | null {
  if (bytes.subarray(0, 5).toString('latin1') === '%PDF-') return 'pdf';
  if (startsWith(bytes, ZIP)) {
    const names = zipEntryNames(bytes, MAX_DOCX_PARTS);
    if (names?.includes('[Content_Types].xml') && names.some((name) => name.startsWith('word/'))) return 'docx';
  }
  return null;
}

/** What the extraction will accept for a type named by the extension. */
function fitsType(type: FileType, bytes: Buffer): boolean {
  if (type === 'pdf') return isPdf(bytes);
  if (type === 'docx') return startsWith(bytes, ZIP);
  return looksLikeText(bytes);
}

const TEXT_SAMPLE = 64 * 1024;

/**
 * Control characters that do not occur in text, as file(1) counts them: all below 0x20 but
 * BEL, BS, TAB, LF, VT, FF, CR and ESC; and DEL.
 */
const BINARY_CONTROL = /[\x00-\x06\x0e-\x1a\x1c-\x1f\x7f]/;

/**
 * The type of a file that is text: UTF-8 (all of it) without binary control characters (in
 * its first 64 KB: binary formats show them at once, and the text cleanup drops any later
 * one). RTF, HTML and JSON are told by how the text starts; null when it is no text.
 */
function textTypeOf(bytes: Buffer): FileType | null {
  if (BINARY_SIGNATURES.some((sig) => startsWith(bytes, sig)) || !isUtf8(bytes)) return null;
  const head = bytes.subarray(0, TEXT_SAMPLE).toString('utf8').replace(/^\ufeff/, '');
  if (BINARY_CONTROL.test(head)) return null;
  const start = head.trimStart();
  if (start.startsWith('{\\rtf')) return 'rtf';
  if (HTML_START.test(start)) return 'html';
  if (looksLikeJson(start, bytes)) return 'json';
  return 'text';
}

/** The WHATWG MIME-sniffing patterns of HTML: one of these tags (or a comment) first, then a space or `>`. */
const HTML_START = /^(<!doctype html|<html|<head|<script|<iframe|<h1|<div|<font|<table|<a|<style|<title|<b|<body|<br|<p)[\s>]|^<!--/i;

/** An object or array: its opening bracket, what may follow it, and the matching closing bracket last. */
function looksLikeJson(start: string, bytes: Buffer): boolean {
  const opening = /^(\{\s*["}]|\[\s*[[{"\-0-9tfn\]])/.exec(start)?.[0]?.[0];
  if (!opening) return false;
  const end = bytes.subarray(Math.max(0, bytes.length - 64)).toString('latin1').trimEnd();
  return end.endsWith(opening === '{' ? '}' : ']');
}

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
