/**
 * URL import (M8, §5.12): fetch through the SSRF-safe fetcher (or headless Chromium in
 * advanced mode), extract readable text with paragraphs, optionally summarise, store.
 */
import type { AppDeps } from '../../app-deps.js';
import { badRequest } from '../../http/errors.js';
import { BlockedUrlError, parseFetchUrl } from '../../lib/ssrf.js';
import { createMemory } from '../memories/service.js';
import { renderWithBrowser } from './browser.js';
import { FetchError, safeFetch } from './fetch.js';
import { UnreadableFile, isPdf, pdfText } from './files.js';
import { extractHtml } from './html.js';
import { decodeText, summarize, tidyText } from './text.js';

export const MAX_URL_CONTENT = 30_000;
const NO_CONTENT = 'No meaningful content found. Try Advanced mode for JS-heavy sites.';

export type SourceType = 'chatgpt' | 'notion' | 'google_docs' | 'github' | 'webpage';

const SOURCES: [RegExp, SourceType, string][] = [
  [/(^|\.)(chatgpt\.com|chat\.openai\.com)$/, 'chatgpt', 'ai-conversation'],
  [/(^|\.)(notion\.so|notion\.site)$/, 'notion', 'documentation'],
  [/(^|\.)docs\.google\.com$/, 'google_docs', 'document'],
  [/(^|\.)github\.com$/, 'github', 'code'],
];

export function sourceOf(url: URL): { type: SourceType; tag: string | null } {
  const host = url.hostname.toLowerCase();
  const hit = SOURCES.find(([pattern]) => pattern.test(host));
  return hit ? { type: hit[1], tag: hit[2] } : { type: 'webpage', tag: null };
}

export interface UrlImportInput {
  url: string;
  summarize: boolean;
  mode: 'basic' | 'advanced';
}

async function readPage(deps: AppDeps, url: URL, mode: 'basic' | 'advanced'): Promise<{ title: string | null; text: string }> {
  const limits = {
    timeoutMs: deps.config.urlImport.timeoutMs,
    maxBytes: deps.config.urlImport.maxBytes,
    maxRedirects: 5,
    allowHosts: deps.config.urlImport.allowHosts,
  };
  if (mode === 'advanced') return renderWithBrowser(deps.config.urlImport.chromiumPath, url, limits);
  const page = await safeFetch(url, limits);
  if (page.contentType === 'application/pdf' || isPdf(page.body)) {
    return { title: decodeURIComponent(page.finalUrl.pathname.split('/').pop() ?? '') || null, text: await pdfText(page.body) };
  }
  const text = decodeText(page.body, page.charset);
  if (page.contentType === 'text/plain') return { title: null, text };
  return extractHtml(text);
}

export async function importUrl(deps: AppDeps, workspaceId: string, authorId: string, input: UrlImportInput) {
  let page: { title: string | null; text: string };
  let url: URL;
  try {
    url = parseFetchUrl(input.url);
    page = await readPage(deps, url, input.mode);
  } catch (error) {
    if (error instanceof BlockedUrlError || error instanceof FetchError || error instanceof UnreadableFile) throw badRequest(error.message);
    throw badRequest(`Request failed: ${String((error as Error)?.message ?? error).slice(0, 80)}`);
  }
  let content = tidyText(page.text);
  if (content.length < 50) throw badRequest(NO_CONTENT);
  if (content.length > MAX_URL_CONTENT) content = `${content.slice(0, MAX_URL_CONTENT)}\n[truncated]`;
  const summary = input.summarize ? summarize(content) : { content, summarized: false };
  const title = tidyText(page.title ?? '').replace(/\s+/g, ' ').slice(0, 200) || 'Imported';
  const source = sourceOf(url);
  const tags = ['imported', `source:${source.type}`];
  if (input.mode === 'advanced') tags.push('playwright-scraped');
  if (source.tag) tags.push(source.tag);
  const memory = await createMemory(deps, {
    workspaceId,
    authorId,
    title: `[Imported] ${title.slice(0, 100)}`,
    content: summary.content,
    tags,
    metadata: {
      source_url: url.toString(),
      source_type: source.type,
      scrape_mode: input.mode,
      imported_at: new Date().toISOString(),
      was_summarized: summary.summarized,
    },
  });
  return { memory, sourceType: source.type, wasSummarized: summary.summarized };
}
