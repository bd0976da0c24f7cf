/**
 * Summaries of imported documents (D16). When `summarize` is asked and the caller has a
 * connected integration (the first one, in creation order), that provider writes the
 * summary with the caller's key, from the document's beginning cut to a token budget.
 * Without one, the parser writes the contract's extractive summary (§5.12). A provider never
 * fails an import: an error, a timeout or an empty answer falls back to the extractive
 * summary. The memory's `metadata.summary` records who wrote it, and why the model did not.
 */
import type { AppDeps } from '../../app-deps.js';
import { keyringFor, listIntegrations, revealKey } from '../integrations/index.js';
import { compatibleProvider, isBuiltIn, modelNameOf } from '../providers/catalog.js';
import { scrubKey } from '../providers/errors.js';
import { callProvider, ProviderError, providerFor } from '../providers/index.js';
import { modelListing } from '../providers/model-lists.js';
import { summarize, SUMMARY_MIN, tidyText } from './text.js';

/** `metadata.summary`: by the model (naming it), or extractive (naming the model that failed, and how). */
export type SummaryRecord = { by: 'model'; model: string } | { by: 'extractive'; model?: string; error?: string };

export interface ImportSummary {
  /** The content to store. */
  content: string;
  summarized: boolean;
  /** Null when nothing was summarised (not asked, or content too short). */
  record: SummaryRecord | null;
}

/** The model that writes a caller's summaries, and the integration holding its key. */
export interface SummaryWriter {
  provider: string;
  model: string;
  /** Its key encrypted, or null when the provider takes none. */
  integration: { id: string; apiKey: string | null };
}

/**
 * The most of a document one summary prompt carries, in tokens: with LLM_MAX_TOKENS (2,000)
 * of reply, it fits the smallest context window of the catalogue's models (8,192 tokens).
 */
export const SUMMARY_PROMPT_TOKENS = 4000;

const INSTRUCTIONS =
  'You summarise documents for a memory bank. Write a faithful, self-contained summary of the document the user sends: ' +
  'keep names, numbers, dates, decisions and conclusions; use short paragraphs; add nothing the document does not say. ' +
  'Answer with the summary only.';

/**
 * The caller's first connected integration as a summary writer: its model, or its provider's
 * default (for a declared provider, the first model its server lists); null without one.
 */
export async function summaryWriter(deps: AppDeps, userId: string): Promise<SummaryWriter | null> {
  const { llm } = deps.config;
  const integration = (await listIntegrations(deps.prisma, userId)).find(
    (row) => row.status === 'connected' && (isBuiltIn(row.provider) || compatibleProvider(llm, row.provider)),
  );
  if (!integration) return null;
  const { provider } = integration;
  if (isBuiltIn(provider)) return { provider, model: modelNameOf(integration.modelId || llm.defaultModels[provider]), integration };
  // An undecryptable key lists as none; the summary itself then fails and falls back (modelSummary).
  const apiKey = () => revealKey(deps.prisma, keyringFor(deps.config), integration).catch(() => '');
  const listed = integration.modelId ? null : await modelListing(llm, provider, await apiKey());
  const model = integration.modelId || listed?.models[0];
  return model ? { provider, model, integration } : null;
}

/** The parser's extractive summary (or the content kept whole), with its record. */
export function extractiveSummary(parsed: { content: string; summarized: boolean }): ImportSummary {
  return { content: parsed.content, summarized: parsed.summarized, record: parsed.summarized ? { by: 'extractive' } : null };
}

/**
 * The beginning of `text` within `maxTokens`, counted the way no tokeniser undercounts much
 * (each vendor has its own): an ASCII character as a third of a token, any other as a whole one.
 */
export function withinTokens(text: string, maxTokens: number): { text: string; cut: boolean } {
  let budget = maxTokens * 3;
  for (let i = 0; i < text.length; i++) {
    budget -= text.charCodeAt(i) < 0x80 ? 1 : 3;
    if (budget < 0) {
      // Never between the two halves of a surrogate pair.
      const end = i > 0 && text.charCodeAt(i - 1) >= 0xd800 && text.charCodeAt(i - 1) <= 0xdbff ? i - 1 : i;
      return { text: text.slice(0, end), cut: true };
    }
  }
  return { text, cut: false };
}

/**
 * The summary of `content` written by `writer` within `timeoutMs`; the extractive summary,
 * recording why, when the provider fails. Content of at most 500 characters is kept whole.
 */
export async function modelSummary(deps: AppDeps, content: string, writer: SummaryWriter, timeoutMs: number): Promise<ImportSummary> {
  if (content.length <= SUMMARY_MIN) return { content, summarized: false, record: null };
  const { provider, model } = writer;
  let apiKey = '';
  try {
    if (timeoutMs <= 0) throw new ProviderError('timeout', 'Request timeout');
    apiKey = await revealKey(deps.prisma, keyringFor(deps.config), writer.integration);
    const prompt = withinTokens(content, SUMMARY_PROMPT_TOKENS);
    const intro = prompt.cut ? 'Summarise this document (only its beginning is included; it was cut to fit):' : 'Summarise this document:';
    const reply = await callProvider(
      providerFor(provider, deps.config.llm),
      { apiKey, model, system: INSTRUCTIONS, turns: [{ role: 'user', content: `${intro}\n\n${prompt.text}` }] },
      { timeoutMs },
    );
    const summary = tidyText(reply.content);
    if (!summary) throw new ProviderError('upstream', 'The model answered with no text');
    return { content: summary, summarized: true, record: { by: 'model', model: reply.modelVersion || model } };
  } catch (error) {
    // The vendor may echo the key in its text, which is stored and shown.
    const reason = error instanceof ProviderError ? scrubKey(error.message, apiKey) : 'The summary could not be written';
    deps.logger.warn({ provider, model, reason, ...(error instanceof ProviderError ? {} : { err: error }) }, 'import summary by the model failed; the extractive summary is stored');
    return { ...summarize(content), record: { by: 'extractive', model, error: reason } };
  }
}
