/**
 * RTF to text in one pass. Groups that hold no document text (font and colour tables, style
 * sheet, document info, pictures, and every `{\*…}` destination) are skipped whole, however
 * deeply nested; `\par` becomes a paragraph break, `\line` a line break, `\'hh` and `\uN` the
 * characters they name. Each character is looked at once and the group stack is an array, so
 * time grows with the length of the input whatever its shape.
 */
import { decodeWindows1252 } from './text.js';

/** Destinations whose content is never document text. */
const SKIPPED_DESTINATIONS = new Set([
  'fonttbl', 'colortbl', 'stylesheet', 'info', 'pict', 'nonshppict', 'object', 'listtable', 'listoverridetable',
  'revtbl', 'rsidtbl', 'generator', 'xmlnstbl', 'filetbl', 'themedata', 'colorschememapping', 'latentstyles', 'datastore',
]);

/** Control words that stand for a character. */
const CHARACTER_WORDS: Record<string, string> = {
  par: '\n\n', pard: '\n\n', sect: '\n\n', page: '\n\n', line: '\n', tab: '\t', cell: ' ', row: '\n',
  emdash: '—', endash: '–', bullet: '•', lquote: '‘', rquote: '’', ldblquote: '“', rdblquote: '”', emspace: ' ', enspace: ' ', qmspace: ' ',
};

/** Control symbols (`\` + one non-letter) that stand for a character. */
const CHARACTER_SYMBOLS: Record<string, string> = { '\\': '\\', '{': '{', '}': '}', '~': '\u00a0', _: '-', '-': '', '\n': '\n\n', '\r': '\n\n' };

interface GroupState {
  skip: boolean;
  /** Fallback characters that follow each `\uN` (set by `\ucN`). */
  uc: number;
}

const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isDigit = (c: number) => c >= 48 && c <= 57;

/** Text of an RTF document; input that does not start like RTF is returned as it is. */
export function rtfText(text: string): string {
  if (!text.trimStart().startsWith('{\\rtf')) return text;
  const out: string[] = [];
  const stack: GroupState[] = [];
  let state: GroupState = { skip: false, uc: 1 };
  /** True right after `{`: the group's first control word may name a destination. */
  let groupStart = false;
  /** Fallback characters still to drop after a `\uN`. */
  let fallback = 0;
  const emit = (chunk: string) => {
    if (fallback > 0) {
      // A fallback is one character (or one `\'hh`): drop that many from the front.
      const dropped = Math.min(fallback, chunk.length);
      fallback -= dropped;
      chunk = chunk.slice(dropped);
    }
    if (chunk && !state.skip) out.push(chunk);
  };

  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 123 /* { */) {
      stack.push(state);
      state = { ...state };
      groupStart = true;
      fallback = 0;
      i++;
      continue;
    }
    if (c === 125 /* } */) {
      state = stack.pop() ?? state;
      groupStart = false;
      fallback = 0;
      i++;
      continue;
    }
    if (c === 10 || c === 13) {
      i++; // line breaks in RTF source are not text
      continue;
    }
    if (c !== 92 /* \ */) {
      let end = i + 1;
      while (end < n) {
        const d = text.charCodeAt(end);
        if (d === 92 || d === 123 || d === 125 || d === 10 || d === 13) break;
        end++;
      }
      groupStart = false;
      emit(text.slice(i, end));
      i = end;
      continue;
    }
    // A control word or symbol.
    const next = text.charCodeAt(i + 1);
    if (isLetter(next)) {
      let end = i + 1;
      while (end < n && isLetter(text.charCodeAt(end))) end++;
      const word = text.slice(i + 1, end);
      let paramStart = end;
      if (text.charCodeAt(end) === 45 /* - */ && isDigit(text.charCodeAt(end + 1))) end++;
      while (end < n && isDigit(text.charCodeAt(end))) end++;
      const param = end > paramStart ? Number(text.slice(paramStart, end)) : null;
      if (text.charCodeAt(end) === 32) end++; // the delimiting space belongs to the control word
      i = end;
      if (groupStart && SKIPPED_DESTINATIONS.has(word)) state.skip = true;
      groupStart = false;
      if (word === 'bin' && param !== null && param > 0) {
        i += param; // binary data of the given length
        continue;
      }
      if (word === 'uc' && param !== null) {
        state.uc = Math.max(0, param);
        continue;
      }
      if (word === 'u' && param !== null) {
        emit(String.fromCharCode((param + 65536) % 65536));
        fallback = state.uc;
        continue;
      }
      const character = CHARACTER_WORDS[word];
      if (character) emit(character);
      continue;
    }
    const symbol = text[i + 1] ?? '';
    i += 2;
    if (symbol === '*') {
      if (groupStart) state.skip = true; // {\*\destination …}: ignorable when unknown, and never text here
      continue;
    }
    groupStart = false;
    if (symbol === "'") {
      const hex = text.slice(i, i + 2);
      i += 2;
      if (/^[0-9a-fA-F]{2}$/.test(hex)) emit(decodeWindows1252(Buffer.of(parseInt(hex, 16))));
      continue;
    }
    const character = CHARACTER_SYMBOLS[symbol];
    if (character !== undefined) emit(character);
  }
  return out.join('');
}
