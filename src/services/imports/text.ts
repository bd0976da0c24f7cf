/**
 * Text helpers shared by URL and file import: decoding bytes of unknown encoding, tidying
 * extracted text while keeping its paragraphs, and the contract's extractive summary (§5.12).
 */

/**
 * Decodes text by its evidence: a BOM, then a declared charset, then strict UTF-8, then
 * BOM-less UTF-16 (recognised by its NUL pattern), and finally windows-1252 (a superset of
 * latin-1 for printable text), which never fails.
 */
export function decodeText(bytes: Buffer, declaredCharset?: string | null): string {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return new TextDecoder('utf-8').decode(bytes.subarray(3));
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  if (declaredCharset) {
    try {
      return new TextDecoder(declaredCharset.trim().toLowerCase()).decode(bytes);
    } catch {
      // Unknown label: fall through to detection.
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Not UTF-8.
  }
  const utf16 = utf16Endianness(bytes);
  if (utf16) return new TextDecoder(utf16).decode(bytes);
  return decodeWindows1252(bytes);
}

// windows-1252 differs from latin-1 only in 0x80–0x9f (Node's TextDecoder treats the two as
// one), so that range is mapped here; unassigned bytes keep their latin-1 meaning.
const CP1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';

export function decodeWindows1252(bytes: Buffer): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    const slice = bytes.subarray(i, i + 8192);
    out += Array.from(slice, (b) => (b >= 0x80 && b <= 0x9f ? CP1252_HIGH[b - 0x80]! : String.fromCharCode(b))).join('');
  }
  return out;
}

/** BOM-less UTF-16 shows NULs in every other byte for Latin text. */
export function utf16Endianness(bytes: Buffer): 'utf-16le' | 'utf-16be' | null {
  const sample = bytes.subarray(0, 4096 - (Math.min(bytes.length, 4096) % 2));
  if (sample.length < 4) return null;
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < sample.length; i += 2) {
    if (sample[i] === 0) evenNul++;
    if (sample[i + 1] === 0) oddNul++;
  }
  const pairs = sample.length / 2;
  if (oddNul > pairs * 0.4 && evenNul < pairs * 0.05) return 'utf-16le';
  if (evenNul > pairs * 0.4 && oddNul < pairs * 0.05) return 'utf-16be';
  return null;
}

// Control characters other than tab and newline (PostgreSQL cannot store NUL at all).
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/**
 * Tidies extracted text but keeps its structure: line endings unified, control characters
 * removed, trailing spaces dropped, and runs of blank lines reduced to one paragraph break.
 */
export function tidyText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/\u00a0/g, ' ')
    .replace(CONTROL, '')
    .split('\n')
    .map((line) => line.replace(/[ \t]+$/g, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Content up to this length is never summarised: the summariser "runs" only above it (§5.12). */
export const SUMMARY_MIN = 500;
const SUMMARY_BUDGET = 2000;

/**
 * The contract's extractive summary (§5.12): content over 2000 characters keeps whole
 * paragraphs up to a 2000-character budget, cuts the overflowing one when more than 100
 * characters of budget remain, and notes the truncation. Paragraphs are read one at a time
 * until the budget is spent, so a long document costs no more than its beginning.
 */
export function summarize(content: string): { content: string; summarized: boolean } {
  // As in the original: the summariser "runs" above 500 characters, but short content is kept whole.
  if (content.length <= SUMMARY_MIN) return { content, summarized: false };
  if (content.length <= SUMMARY_BUDGET) return { content, summarized: true };
  const kept: string[] = [];
  let used = 0;
  for (let start = 0; start <= content.length; ) {
    const newline = content.indexOf('\n', start);
    const end = newline < 0 ? content.length : newline;
    const paragraph = content.slice(start, end).trim();
    start = end + 1;
    if (!paragraph) continue;
    if (used + paragraph.length <= SUMMARY_BUDGET) {
      kept.push(paragraph);
      used += paragraph.length;
      continue;
    }
    const remaining = SUMMARY_BUDGET - used;
    if (remaining > 100) kept.push(`${paragraph.slice(0, remaining)}...`);
    break;
  }
  const body = kept.join('\n\n');
  return { content: `${body}\n\n[Content truncated from ${content.length} to ${body.length} characters]`, summarized: true };
}
