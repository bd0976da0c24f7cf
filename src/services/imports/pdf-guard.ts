/**
 * A PDF can be a bomb too: one FlateDecode stream of a few hundred kilobytes that inflates to
 * many megabytes of page content, which pdf.js then reads slowly and at length. Before pdf.js
 * sees the file, every stream whose first filter is FlateDecode is inflated here by zlib with
 * a hard output ceiling, and their sum is held to the inflation limit.
 *
 * Image streams are not counted: text extraction never decodes them, and a real document's
 * pictures may expand far more than its text. A stream that only pretends to be an image, or
 * whose first filter is another one, is still bounded by the parser's deadline and memory cap.
 */
import { constants, inflateSync } from 'node:zlib';
import { expandsTooMuch } from './document-limits.js';

const FLATE_FIRST = /\/Filter\s*(?:\[\s*)?\/(?:FlateDecode|Fl)(?![A-Za-z])/;
const IMAGE = /\/Subtype\s*\/Image(?![A-Za-z])/;
/** How far back from `stream` the stream's dictionary is looked for. */
const DICTIONARY_WINDOW = 4096;

/** Throws DocumentRejected (413) when the PDF's Flate streams inflate past `maxBytes` in total. */
export function assertPdfInflationWithin(bytes: Buffer, maxBytes: number): void {
  let budget = maxBytes;
  let from = 0;
  for (;;) {
    const keyword = bytes.indexOf('stream', from, 'latin1');
    if (keyword < 0) return;
    from = keyword + 6;
    if (keyword >= 3 && bytes.toString('latin1', keyword - 3, keyword) === 'end') continue;
    // The keyword is followed by an end of line (CRLF or LF; a lone CR is tolerated, as pdf.js does).
    let start = keyword + 6;
    if (bytes[start] === 0x0d) start++;
    if (bytes[start] === 0x0a) start++;
    if (start === keyword + 6) continue;
    const endKeyword = bytes.indexOf('endstream', start, 'latin1');
    const end = endKeyword < 0 ? bytes.length : endKeyword;
    from = end;
    const windowStart = Math.max(0, keyword - DICTIONARY_WINDOW);
    const before = bytes.toString('latin1', windowStart, keyword);
    const dictionary = before.slice(Math.max(0, before.lastIndexOf('obj')));
    if (!FLATE_FIRST.test(dictionary) || IMAGE.test(dictionary)) continue;
    budget -= inflatedSize(bytes.subarray(start, end), budget, maxBytes);
    if (budget < 0) throw expandsTooMuch(maxBytes);
  }
}

/** Bytes the zlib data inflates to (up to `budget`); data zlib cannot read counts as nothing, as pdf.js fails on it too. */
function inflatedSize(data: Buffer, budget: number, maxBytes: number): number {
  try {
    // A truncated stream still inflates as far as it goes (pdf.js reads such streams too).
    return inflateSync(data, { maxOutputLength: Math.max(1, budget), finishFlush: constants.Z_SYNC_FLUSH }).length;
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) throw expandsTooMuch(maxBytes);
    return 0;
  }
}
