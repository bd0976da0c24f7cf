/**
 * HTML → text with paragraphs kept. Articles are found with @mozilla/readability over a
 * linkedom DOM (no browser, no script execution); when Readability finds nothing, the body
 * without page chrome (script, style, nav, header, footer, aside) is used. The markup is
 * checked against the element and depth limits before linkedom builds anything.
 */
import type { MarkupLimits } from './markup-scan.js';
import { scanMarkup } from './markup-scan.js';

// linkedom and Readability are loaded with the first import, not at server start.
export const loadDom = () => Promise.all([import('linkedom'), import('@mozilla/readability')]);

const BLOCKS = new Set([
  'address', 'article', 'aside', 'blockquote', 'dd', 'div', 'dl', 'dt', 'figcaption', 'figure', 'footer', 'form',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li', 'main', 'nav', 'ol', 'p', 'pre', 'section', 'table',
  'tbody', 'thead', 'tfoot', 'tr', 'ul', 'body', 'html',
]);
const SKIPPED = new Set(['script', 'style', 'noscript', 'template', 'svg', 'iframe', 'object', 'head']);
const CHROME = 'script, style, noscript, template, nav, footer, header, aside';

interface DomNode {
  nodeType: number;
  nodeName: string;
  textContent: string | null;
  firstChild: DomNode | null;
  nextSibling: DomNode | null;
}

/**
 * Readability walks its document several times over; past this many elements it gives up
 * (its own `maxElemsToParse` check) and the plain body is used, as for any page it cannot read.
 */
const READABILITY_MAX_ELEMENTS = 20_000;

/** Walks the DOM: text is whitespace-collapsed inside a block; blocks become paragraphs. */
export function domToText(root: DomNode): string {
  const paragraphs: string[] = [];
  let current = '';
  const flush = () => {
    const text = current.replace(/\s+/g, ' ').trim();
    if (text) paragraphs.push(text);
    current = '';
  };
  const walk = (node: DomNode) => {
    if (node.nodeType === 3) {
      current += node.textContent ?? '';
      return;
    }
    if (node.nodeType !== 1 && node.nodeType !== 9 && node.nodeType !== 11) return;
    const tag = node.nodeName.toLowerCase();
    if (SKIPPED.has(tag)) return;
    if (tag === 'br') {
      current += ' ';
      return;
    }
    if (tag === 'td' || tag === 'th') current += ' | ';
    const block = BLOCKS.has(tag);
    if (block) flush();
    // Sibling links, not childNodes: linkedom builds a fresh childNodes array on every access.
    for (let child = node.firstChild; child; child = child.nextSibling) walk(child);
    if (block) flush();
  };
  walk(root);
  return paragraphs.map((p) => p.replace(/^\|\s*/, '')).join('\n\n');
}

export interface ExtractedPage {
  title: string | null;
  text: string;
}

/** The readable text of an HTML document, paragraphs separated by blank lines. */
export async function extractHtml(html: string, limits: MarkupLimits, useReadability = true): Promise<ExtractedPage> {
  scanMarkup(html, 'html', limits);
  const [{ parseHTML }, { Readability }] = await loadDom();
  let { document } = parseHTML(html);
  // Text without markup (a .html file that is not HTML) gives linkedom no root element, and
  // then its document.body getter throws; a fragment (`<div>…`, `<p>…`) becomes the root
  // itself, outside the body: read such input as the body of a page.
  if (document.documentElement?.nodeName !== 'HTML') ({ document } = parseHTML(`<!doctype html><html><head></head><body>${html}</body></html>`));
  const pageTitle = document.querySelector('title')?.textContent?.replace(/\s+/g, ' ').trim() || null;
  if (useReadability) {
    try {
      const options = { charThreshold: 200, maxElemsToParse: READABILITY_MAX_ELEMENTS };
      const article = new Readability(document.cloneNode(true) as unknown as Document, options).parse();
      if (article?.content) {
        const text = domToText(parseHTML(`<html><body>${article.content}</body></html>`).document as unknown as DomNode);
        if (text.length >= 50) return { title: article.title?.trim() || pageTitle, text };
      }
    } catch {
      // Readability gives up on odd documents; the plain body below still works.
    }
  }
  for (const el of document.querySelectorAll(CHROME)) el.remove();
  const body = document.body ?? document.documentElement;
  return { title: pageTitle, text: body ? domToText(body as unknown as DomNode) : '' };
}
