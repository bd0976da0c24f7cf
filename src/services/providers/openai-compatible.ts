/**
 * OpenAI chat completions through the `openai` SDK. DeepSeek and Groq speak the same
 * protocol, so they are this provider with their own base URL (D11).
 */
import type OpenAI from 'openai';
import type { LlmConfig, ProviderName } from '../../config/env.js';
import { clientCache } from './client-cache.js';
import { connectionTestError } from './errors.js';
import { providerFetch } from '../../fast/provider-fetch.js';
import type { ChatProvider, ChatReply, ChatRequest, ConnectionTestResult } from './types.js';

// Loaded on first use: the SDK is a large import that most processes never need at start.
let sdk: Promise<typeof import('openai')> | undefined;
const loadSdk = () => (sdk ??= import('openai'));

type OpenAiLike = Extract<ProviderName, 'openai' | 'deepseek' | 'groq'>;

/** DeepSeek answers 402 to a valid key without balance: the key itself works (§5.8). */
const TEST_OK_STATUSES: Record<OpenAiLike, number[]> = { openai: [], deepseek: [402], groq: [] };

export function openAiCompatibleProvider(name: OpenAiLike, llm: LlmConfig): ChatProvider {
  const client = clientCache(async (apiKey, timeout): Promise<OpenAI> => {
    const { default: Sdk } = await loadSdk();
    return new Sdk({ apiKey, baseURL: llm.baseUrls[name], timeout, maxRetries: 0, fetch: providerFetch });
  });

  return {
    async chat(req: ChatRequest): Promise<ChatReply> {
      const messages = [{ role: 'system' as const, content: req.system }, ...req.turns.map((t) => ({ role: t.role, content: t.content }))];
      const params = { model: req.model, messages, temperature: 0.7, max_tokens: llm.maxTokens };
      const api = await client(req.apiKey, llm.timeoutMs);
      if (!req.onDelta) {
        const completion = await api.chat.completions.create(params, { signal: req.signal });
        return {
          content: completion.choices[0]?.message?.content ?? '',
          tokens: completion.usage?.total_tokens ?? 0,
          modelVersion: completion.model || req.model,
        };
      }
      const stream = await api.chat.completions.create(
        { ...params, stream: true, stream_options: { include_usage: true } },
        { signal: req.signal },
      );
      let content = '';
      let tokens = 0;
      let modelVersion = req.model;
      for await (const chunk of stream) {
        if (chunk.model) modelVersion = chunk.model;
        if (chunk.usage) tokens = chunk.usage.total_tokens;
        const text = chunk.choices[0]?.delta?.content;
        if (text) {
          content += text;
          req.onDelta(text);
        }
      }
      return { content, tokens, modelVersion };
    },

    async testConnection(apiKey: string): Promise<ConnectionTestResult> {
      try {
        await (await client(apiKey, llm.connectionTestTimeoutMs)).models.list();
        return { ok: true, error: null };
      } catch (error) {
        const status = (error as { status?: number }).status;
        if (status !== undefined && TEST_OK_STATUSES[name].includes(status)) return { ok: true, error: null };
        return { ok: false, error: connectionTestError(error, false) };
      }
    },
  };
}
