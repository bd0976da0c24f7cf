/**
 * A linear pre-scan of markup before a DOM parser sees it: counts elements and tracks the
 * nesting depth, and stops at the first one past its limit. DOM builders and what runs over
 * their trees (linkedom, Readability, mammoth's XML reader) slow down with the square of the
 * depth or run out of memory on millions of elements; this scan costs one pass and a stack no
 * deeper than the limit.
 *
 * HTML follows the tree rules of htmlparser2, the tokenizer under linkedom (void elements,
 * start tags that close open ones, self-closing only inside svg/math, raw text in script and
 * style), so the depth counted is the depth linkedom will build; where the rules are
 * approximated, the scan counts deeper, never shallower. XML is read as XML: every
 * `<x/>` closes itself and every end tag closes the innermost element.
 */
import { nestedTooDeep, tooManyElements } from './document-limits.js';

export interface MarkupLimits {
  maxElements: number;
  maxDepth: number;
}

/** Elements counted so far; one counter can be shared by several parts of one document. */
export interface ElementTally {
  elements: number;
}

const P = new Set(['p']);
const FORM = new Set(['input', 'option', 'optgroup', 'select', 'button', 'datalist', 'textarea']);
const TABLE_SECTION = new Set(['thead', 'tbody']);
const DD_DT = new Set(['dd', 'dt']);
const RT_RP = new Set(['rt', 'rp']);
const OPEN_IMPLIES_CLOSE = new Map<string, Set<string>>([
  ['tr', new Set(['tr', 'th', 'td'])],
  ['th', new Set(['th'])],
  ['td', new Set(['thead', 'th', 'td'])],
  ['body', new Set(['head', 'link', 'script'])],
  ['li', new Set(['li'])],
  ['option', new Set(['option'])],
  ['optgroup', new Set(['optgroup', 'option'])],
  ['dd', DD_DT],
  ['dt', DD_DT],
  ['rt', RT_RP],
  ['rp', RT_RP],
  ['tbody', TABLE_SECTION],
  ['tfoot', TABLE_SECTION],
  ...['select', 'input', 'output', 'button', 'datalist', 'textarea'].map((t) => [t, FORM] as [string, Set<string>]),
  ...['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'address', 'article', 'aside', 'blockquote', 'details', 'div', 'dl', 'fieldset', 'figcaption', 'figure', 'footer', 'form', 'header', 'hr', 'main', 'nav', 'ol', 'pre', 'section', 'table', 'ul'].map(
    (t) => [t, P] as [string, Set<string>],
  ),
]);
const VOID = new Set(['area', 'base', 'basefont', 'br', 'col', 'command', 'embed', 'frame', 'hr', 'img', 'input', 'isindex', 'keygen', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
const FOREIGN = new Set(['math', 'svg']);
const HTML_INTEGRATION = new Set(['mi', 'mo', 'mn', 'ms', 'mtext', 'annotation-xml', 'foreignobject', 'desc', 'title']);
const RAW_TEXT = new Set(['script', 'style', 'title', 'textarea', 'xmp']);

const LT = 60;
const GT = 62;
const SLASH = 47;
const BANG = 33;
const QUESTION = 63;
const EQ = 61;
const DQ = 34;
const SQ = 39;
const DASH = 45;

const isWhitespace = (c: number) => c === 32 || c === 9 || c === 10 || c === 12 || c === 13;
const isAlpha = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/**
 * Throws DocumentRejected (422) when the markup `s` holds more elements or deeper nesting than
 * allowed. `tally` carries the element count across the parts of one document.
 */
export function scanMarkup(s: string, mode: 'html' | 'xml', limits: MarkupLimits, tally: ElementTally = { elements: 0 }): void {
  const html = mode === 'html';
  const length = s.length;
  // HTML names are case-insensitive.
  const nameAt = (from: number, to: number) => (html ? s.slice(from, to).toLowerCase() : s.slice(from, to));
  const stack: string[] = [];
  /** How many of each name are open: an end tag that matches none costs no search of the stack. */
  const openCount = new Map<string, number>();
  const push = (name: string) => {
    stack.push(name);
    openCount.set(name, (openCount.get(name) ?? 0) + 1);
  };
  const popTo = (depth: number) => {
    while (stack.length > depth) {
      const name = stack.pop()!;
      openCount.set(name, openCount.get(name)! - 1);
    }
  };
  /** htmlparser2's foreign-content flags: self-closing syntax counts only inside svg/math. */
  const foreign: boolean[] = [!html];

  /** Counts one more element at the level below the open ones. */
  const count = () => {
    if (++tally.elements > limits.maxElements) throw tooManyElements(limits.maxElements);
    if (stack.length + 1 > limits.maxDepth) throw nestedTooDeep(limits.maxDepth);
  };

  const open = (name: string) => {
    if (html) {
      const closes = OPEN_IMPLIES_CLOSE.get(name);
      while (closes && stack.length && closes.has(stack[stack.length - 1]!)) popTo(stack.length - 1);
    }
    count();
    if (html && VOID.has(name)) return;
    push(name);
    if (html && FOREIGN.has(name)) foreign.push(true);
    else if (html && HTML_INTEGRATION.has(name)) foreign.push(false);
  };

  const close = (name: string) => {
    if (html && (FOREIGN.has(name) || HTML_INTEGRATION.has(name)) && foreign.length > 1) foreign.pop();
    if (html && VOID.has(name)) {
      if (name === 'br') count(); // `</br>` is read as `<br>`
      return;
    }
    const at = openCount.get(name) ? stack.lastIndexOf(name) : -1;
    if (at >= 0) popTo(at);
    else if (html && name === 'p') count(); // a stray `</p>` is read as `<p></p>`
  };

  let i = 0;
  while (i < length) {
    const lt = s.indexOf('<', i);
    if (lt < 0 || lt + 1 >= length) break;
    const c = s.charCodeAt(lt + 1);
    if (c === BANG) {
      // As htmlparser2's tokenizer: a comment (whose opening dashes may close it: `<!-->`),
      // CDATA (comment-like in both modes), or a declaration that ends at a later '>' (the
      // character after `<!`, or after `<!-`, is consumed before the search starts).
      if (s.startsWith('!--', lt + 1)) i = skipPast(s, '-->', lt + 2);
      else if (s.startsWith('![CDATA[', lt + 1)) i = skipPast(s, ']]>', lt + 9);
      else if (s.charCodeAt(lt + 2) === DASH) i = skipPast(s, '>', lt + 4);
      else i = skipPast(s, '>', lt + 3);
      continue;
    }
    if (c === QUESTION) {
      i = skipPast(s, html ? '>' : '?>', lt + 2);
      continue;
    }
    if (c === SLASH) {
      const nameEnd = tagNameEnd(s, lt + 2);
      const name = nameAt(lt + 2, nameEnd);
      i = skipPast(s, '>', nameEnd);
      if (name && (isAlpha(name.charCodeAt(0)) || !html)) close(name);
      continue;
    }
    if (!(isAlpha(c) || (!html && c !== LT && !isWhitespace(c) && c !== GT))) {
      i = lt + 1; // a lone '<' in text
      continue;
    }
    const nameEnd = tagNameEnd(s, lt + 1);
    const name = nameAt(lt + 1, nameEnd);
    open(name);
    const { end, selfClosing } = readAttributes(s, nameEnd);
    if (selfClosing && (foreign[foreign.length - 1] ?? false) && stack[stack.length - 1] === name) popTo(stack.length - 1);
    if (html && !selfClosing && RAW_TEXT.has(name)) {
      // Raw text up to the matching end tag: its content holds no elements.
      const closeAt = endTagAt(s, name, end);
      if (closeAt < 0) break;
      i = closeAt;
      continue;
    }
    i = end;
  }
}

/** Where `</name` (any case) next starts, or -1. */
function endTagAt(s: string, name: string, from: number): number {
  for (let at = s.indexOf('</', from); at >= 0; at = s.indexOf('</', at + 2)) {
    if (s.slice(at + 2, at + 2 + name.length).toLowerCase() === name) return at;
  }
  return -1;
}

function tagNameEnd(s: string, from: number): number {
  let j = from;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (isWhitespace(c) || c === SLASH || c === GT) break;
    j++;
  }
  return j;
}

/** Index after `marker` (searching from `from`), or the end of the text. */
function skipPast(s: string, marker: string, from: number): number {
  const at = s.indexOf(marker, from);
  return at < 0 ? s.length : at + marker.length;
}

// States of the start-tag reader below.
const St = { Before: 0, Name: 1, AfterName: 2, BeforeValue: 3, Quoted: 4, Unquoted: 5, SelfClosing: 6 } as const;

/** Reads a start tag's attributes as htmlparser2's tokenizer does; returns where the tag ends. */
function readAttributes(s: string, from: number): { end: number; selfClosing: boolean } {
  let state: (typeof St)[keyof typeof St] = St.Before;
  let quote = 0;
  for (let j = from; j < s.length; j++) {
    const c = s.charCodeAt(j);
    switch (state) {
      case St.Before:
        if (c === GT) return { end: j + 1, selfClosing: false };
        if (c === SLASH) state = St.SelfClosing;
        else if (!isWhitespace(c)) state = St.Name;
        break;
      case St.SelfClosing:
        if (c === GT) return { end: j + 1, selfClosing: true };
        if (!isWhitespace(c)) {
          state = St.Before;
          j--;
        }
        break;
      case St.Name:
        if (c === EQ) state = St.BeforeValue;
        else if (isWhitespace(c) || c === SLASH || c === GT) {
          state = St.AfterName;
          j--;
        }
        break;
      case St.AfterName:
        if (c === EQ) state = St.BeforeValue;
        else if (c === SLASH || c === GT) {
          state = St.Before;
          j--;
        } else if (!isWhitespace(c)) state = St.Name;
        break;
      case St.BeforeValue:
        if (c === DQ || c === SQ) {
          quote = c;
          state = St.Quoted;
        } else if (!isWhitespace(c)) {
          state = St.Unquoted;
          j--;
        }
        break;
      case St.Quoted: {
        const close = s.indexOf(String.fromCharCode(quote), j);
        if (close < 0) return { end: s.length, selfClosing: false };
        j = close;
        state = St.Before;
        break;
      }
      case St.Unquoted:
        if (isWhitespace(c) || c === GT) {
          state = St.Before;
          j--;
        }
        break;
    }
  }
  return { end: s.length, selfClosing: false };
}
