/**
 * URL import (M8, §5.12): fetch through the SSRF-safe fetcher (or headless Chromium in
 * advanced mode), extract readable text with paragraphs in a parser process, optionally
 * summarise (summary.ts), store. URL_IMPORT_TIMEOUT bounds all of it: fetching, rendering,
 * parsing and the summary share one deadline. A fetch past it is a 400; a parse past what it
 * had left is the same 422 as an uploaded document's parse past IMPORT_PARSE_TIMEOUT, naming
 * the time.
 */
import type { AppDeps } from '../../app-deps.js';
import { AppError, badRequest } from '../../lib/errors.js';
import { BlockedUrlError, parseFetchUrl } from '../../lib/ssrf.js';
import { createMemory } from '../memories/service.js';
import { renderWithBrowser } from './browser.js';
import { type FetchedDocument, FetchError, safeFetch, TIMED_OUT } from './fetch.js';
import type { ParsedDocument } from './parse-job.js';
import { extractiveSummary, modelSummary, summaryWriter } from './summary.js';

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

function fetchPage(deps: AppDeps, url: URL, mode: 'basic' | 'advanced', deadlineAt: number): Promise<FetchedDocument> {
  const limits = {
    timeoutMs: Math.max(1, deadlineAt - Date.now()),
    maxBytes: deps.config.urlImport.maxBytes,
    maxRedirects: 5,
    allowHosts: deps.config.urlImport.allowHosts,
  };
  if (mode === 'advanced') return renderWithBrowser(deps.config.urlImport.chromiumPath, url, limits, deadlineAt);
  return safeFetch(url, limits);
}

/** The title a PDF gets: its file name in the URL (as written when it is not valid percent-encoding). */
function pdfTitle(page: FetchedDocument): string | null {
  const name = page.finalUrl.pathname.split('/').pop() ?? '';
  try {
    return decodeURIComponent(name) || null;
  } catch {
    return name || null;
  }
}

export async function importUrl(deps: AppDeps, workspaceId: string, authorId: string, input: UrlImportInput) {
  const deadlineAt = Date.now() + deps.config.urlImport.timeoutMs;
  let parsed: ParsedDocument;
  let url: URL;
  const writer = input.summarize ? await summaryWriter(deps, authorId) : null;
  try {
    url = parseFetchUrl(input.url);
    const page = await fetchPage(deps, url, input.mode, deadlineAt);
    const timeLeft = deadlineAt - Date.now();
    if (timeLeft <= 0) throw badRequest(TIMED_OUT);
    // The parser writes the extractive summary; a model's needs the whole text.
    const job = { kind: 'page', contentType: page.contentType, charset: page.charset, body: page.body, summarize: input.summarize && !writer, maxChars: MAX_URL_CONTENT, pdfTitle: pdfTitle(page) } as const;
    parsed = await deps.documentParser.parse(job, { timeoutMs: timeLeft });
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (Date.now() >= deadlineAt) throw badRequest(TIMED_OUT);
    if (error instanceof BlockedUrlError || error instanceof FetchError) throw badRequest(error.message);
    throw badRequest(`Request failed: ${String((error as Error)?.message ?? error).slice(0, 80)}`);
  }
  if (parsed.extractedChars < 50) throw badRequest(NO_CONTENT);
  // The model gets what is left of the import's deadline.
  const summary = writer ? await modelSummary(deps, parsed.content, writer, Math.min(deps.config.llm.timeoutMs, deadlineAt - Date.now())) : extractiveSummary(parsed);
  const title = parsed.title ?? 'Imported';
  const source = sourceOf(url);
  const tags = ['imported', `source:${source.type}`];
  if (input.mode === 'advanced') tags.push('playwright-scraped');
  if (source.tag) tags.push(source.tag);
  const memory = await createMemory(deps.prisma, deps.embeddings, {
    workspaceId,
    authorId,
    provenance: { source: 'user', userId: authorId },
    title: `[Imported] ${title.slice(0, 100)}`,
    content: summary.content,
    tags,
    metadata: {
      source_url: url.toString(),
      source_type: source.type,
      scrape_mode: input.mode,
      imported_at: new Date().toISOString(),
      was_summarized: summary.summarized,
      ...(summary.record && { summary: summary.record }),
    },
  });
  return { memory, sourceType: source.type, wasSummarized: summary.summarized };
}
