/** Google Gemini through `@google/generative-ai` (systemInstruction; roles user/model). */
import { GoogleGenerativeAI } from '@google/generative-ai';
import type { LlmConfig } from '../../config/env.js';
import { connectionTestError, ProviderError, vendorMessage } from './errors.js';
import { alternateTurns } from './turns.js';
import type { ChatProvider, ChatReply, ChatRequest, ConnectionTestResult } from './types.js';

/** Catalogue names → Gemini model ids (§5.10); other names are sent as they are. */
const MODEL_IDS: Record<string, string> = {
  'gemini-1.5-flash': 'gemini-1.5-flash-latest',
  'gemini-1.5-pro': 'gemini-1.5-pro-latest',
};

export const googleModelId = (name: string) => MODEL_IDS[name.toLowerCase()] ?? name;

/**
 * The SDK puts the model into the URL path as it is (`<base>/v1beta/<model>:<task>`), adding
 * `models/` only when the name has no slash: a name with `/../`, `?` or `#` would reach another
 * path or change the query. Encoded as one path segment, it names a model and nothing else.
 */
const modelPath = (id: string) => `models/${encodeURIComponent(id)}`;

/** Gemini reports the serving model as `modelVersion`, which the SDK's types omit. */
const reportedVersion = (response: object): string | undefined => (response as { modelVersion?: string }).modelVersion;

const QUOTA = /quota|rate.?limit|exhausted/i;

/** Google's quota errors read as rate limits (→ 429), as in the original. */
function rethrow(error: unknown): never {
  const status = (error as { status?: number }).status;
  if (status === 429 || (status !== undefined && QUOTA.test(vendorMessage(error)))) {
    throw new ProviderError('rate_limit', 'Rate limit exceeded');
  }
  throw error;
}

export function googleProvider(llm: LlmConfig): ChatProvider {
  const model = (apiKey: string, name: string, withSystem?: string) =>
    new GoogleGenerativeAI(apiKey).getGenerativeModel(
      {
        model: modelPath(googleModelId(name)),
        ...(withSystem === undefined ? {} : { systemInstruction: withSystem }),
        generationConfig: { temperature: 0.7, maxOutputTokens: llm.maxTokens },
      },
      { baseUrl: llm.baseUrls.google.replace(/\/+$/, '') },
    );

  return {
    async chat(req: ChatRequest): Promise<ChatReply> {
      const gemini = model(req.apiKey, req.model, req.system);
      const contents = alternateTurns(req.turns, 'assistant').map((t) => ({
        role: t.role === 'user' ? 'user' : 'model',
        parts: [{ text: t.content }],
      }));
      // The deadline comes with req.signal (the SDK's own timeout leaves a timer running).
      const options = { signal: req.signal };
      const modelVersion = googleModelId(req.model);
      try {
        if (!req.onDelta) {
          const { response } = await gemini.generateContent({ contents }, options);
          return { content: response.text(), tokens: response.usageMetadata?.totalTokenCount ?? 0, modelVersion: reportedVersion(response) ?? modelVersion };
        }
        const result = await gemini.generateContentStream({ contents }, options);
        // The aggregated response rejects too when the stream fails; the stream loop reports it.
        result.response.catch(() => undefined);
        let content = '';
        let tokens = 0;
        let version = modelVersion;
        for await (const chunk of result.stream) {
          if (chunk.usageMetadata?.totalTokenCount) tokens = chunk.usageMetadata.totalTokenCount;
          version = reportedVersion(chunk) ?? version;
          const text = chunk.text();
          if (text) {
            content += text;
            req.onDelta(text);
          }
        }
        return { content, tokens, modelVersion: version };
      } catch (error) {
        rethrow(error);
      }
    },

    async testConnection(apiKey: string): Promise<ConnectionTestResult> {
      const deadline = AbortSignal.timeout(llm.connectionTestTimeoutMs);
      try {
        // countTokens checks the key through the same client without generating anything.
        await model(apiKey, llm.defaultModels.google).countTokens('test', { signal: deadline });
        return { ok: true, error: null };
      } catch (error) {
        return { ok: false, error: connectionTestError(error, deadline.aborted, [400, 401, 403]) };
      }
    },
  };
}
