/**
 * Google Gemini through `@google/generative-ai` (systemInstruction; roles user/model), with
 * the vendor behaviours of §5.10: a model Google no longer serves (404) is retried once with
 * GOOGLE_DEFAULT_MODEL, and quota or rate answers get the contract's rate-limit text.
 */
import type { GenerateContentRequest, GoogleGenerativeAI } from '@google/generative-ai';
import type { LlmConfig } from '../../config/env.js';
import { clientCache } from './client-cache.js';
import { connectionTestError, ProviderError, vendorMessage } from './errors.js';
import { alternateTurns } from './turns.js';
import type { ChatProvider, ChatReply, ChatRequest, ConnectionTestResult } from './types.js';

/** Catalogue names → Gemini model ids (§5.10); other names are sent as they are. */
const MODEL_IDS: Record<string, string> = {
  'gemini-1.5-flash': 'gemini-1.5-flash-latest',
  'gemini-1.5-pro': 'gemini-1.5-pro-latest',
};

export const googleModelId = (name: string) => MODEL_IDS[name.toLowerCase()] ?? name;

export const GOOGLE_RATE_LIMITED = 'Rate limit exceeded. Try Groq instead (free).';

// Loaded on first use: the SDK is a large import that most processes never need at start.
let sdk: Promise<typeof import('@google/generative-ai')> | undefined;
const loadSdk = () => (sdk ??= import('@google/generative-ai'));

/**
 * The SDK puts the model into the URL path as it is (`<base>/v1beta/<model>:<task>`), adding
 * `models/` only when the name has no slash: a name with `/../`, `?` or `#` would reach another
 * path or change the query. Encoded as one path segment, it names a model and nothing else.
 */
const modelPath = (id: string) => `models/${encodeURIComponent(id)}`;

/** Gemini reports the serving model as `modelVersion`, which the SDK's types omit. */
const reportedVersion = (response: object): string | undefined => (response as { modelVersion?: string }).modelVersion;

const statusOf = (error: unknown) => (error as { status?: unknown })?.status;

/**
 * The text Google answered, without the SDK's prefix: that prefix names the request URL,
 * whose `generateContent` (and any model name) must not read as a rate-limit word.
 */
const googleText = (error: unknown) => String((error as Error)?.message ?? '').replace(/^\[GoogleGenerativeAI Error\]: Error fetching from \S+: /, '');

const RATE_WORDS = /quota|\brate\b|rate.?limit|\blimit|exceeded|exhausted/i;

/** §5.10: HTTP 429, or a message speaking of quota, rate, limit or exceeded. */
const isRateLimit = (error: unknown) => statusOf(error) === 429 || RATE_WORDS.test(googleText(error));

export function googleProvider(llm: LlmConfig): ChatProvider {
  const client = clientCache(async (apiKey): Promise<GoogleGenerativeAI> => {
    const { GoogleGenerativeAI: Sdk } = await loadSdk();
    return new Sdk(apiKey);
  });
  // One client per key whatever the deadline: it travels with each call's signal (the SDK's own timeout leaves a timer running).
  const clientFor = (apiKey: string) => client(apiKey, 0);
  const model = (api: GoogleGenerativeAI, id: string) =>
    api.getGenerativeModel(
      { model: modelPath(id), generationConfig: { temperature: 0.7, maxOutputTokens: llm.maxTokens } },
      { baseUrl: llm.baseUrls.google.replace(/\/+$/, '') },
    );

  /** One call to one model; `sent` records whether any text reached the caller (a retry would repeat it). */
  async function generate(api: GoogleGenerativeAI, id: string, req: ChatRequest, sent: { any: boolean }): Promise<ChatReply> {
    const gemini = model(api, id);
    const request: GenerateContentRequest = {
      systemInstruction: req.system,
      contents: alternateTurns(req.turns, 'assistant').map((t) => ({ role: t.role === 'user' ? 'user' : 'model', parts: [{ text: t.content }] })),
    };
    const options = { signal: req.signal };
    if (!req.onDelta) {
      const { response } = await gemini.generateContent(request, options);
      return { content: response.text(), tokens: response.usageMetadata?.totalTokenCount ?? 0, modelVersion: reportedVersion(response) ?? id };
    }
    const result = await gemini.generateContentStream(request, options);
    // The aggregated response rejects too when the stream fails; the stream loop reports it.
    result.response.catch(() => undefined);
    let content = '';
    let tokens = 0;
    let version = id;
    for await (const chunk of result.stream) {
      if (chunk.usageMetadata?.totalTokenCount) tokens = chunk.usageMetadata.totalTokenCount;
      version = reportedVersion(chunk) ?? version;
      const text = chunk.text();
      if (text) {
        content += text;
        sent.any = true;
        req.onDelta(text);
      }
    }
    return { content, tokens, modelVersion: version };
  }

  /** Google's failures as §5.10 words them; our own deadline or a disconnect is left to the caller to name. */
  const normalised = (error: unknown, req: ChatRequest, prefix = '') => {
    if (req.signal.aborted) return error;
    if (isRateLimit(error)) return new ProviderError('rate_limit', GOOGLE_RATE_LIMITED);
    return prefix ? new ProviderError('upstream', `${prefix}${vendorMessage(error)}`) : error;
  };

  return {
    async chat(req: ChatRequest): Promise<ChatReply> {
      const api = await clientFor(req.apiKey);
      const requested = googleModelId(req.model);
      const fallback = googleModelId(llm.defaultModels.google);
      const sent = { any: false };
      try {
        return await generate(api, requested, req, sent);
      } catch (error) {
        if (statusOf(error) !== 404 || requested === fallback || sent.any || req.signal.aborted) throw normalised(error, req);
      }
      try {
        return await generate(api, fallback, req, sent);
      } catch (error) {
        throw normalised(error, req, `Fallback also failed: ${requested} was not found, then ${fallback}: `);
      }
    },

    async testConnection(apiKey: string): Promise<ConnectionTestResult> {
      const deadline = AbortSignal.timeout(llm.connectionTestTimeoutMs);
      try {
        // countTokens checks the key through the same client without generating anything.
        await model(await clientFor(apiKey), googleModelId(llm.defaultModels.google)).countTokens('test', { signal: deadline });
        return { ok: true, error: null };
      } catch (error) {
        return { ok: false, error: connectionTestError(error, deadline.aborted, [400, 401, 403]) };
      }
    },
  };
}
