/** Anthropic messages through `@anthropic-ai/sdk` (system as a parameter, no system turns). */
import type Anthropic from '@anthropic-ai/sdk';
import type { LlmConfig } from '../../config/env.js';
import { clientCache } from './client-cache.js';
import { connectionTestError } from './errors.js';
import { providerFetch } from '../../fast/provider-fetch.js';
import { alternateTurns } from './turns.js';
import type { ChatProvider, ChatReply, ChatRequest, ConnectionTestResult } from './types.js';

/** Catalogue names → Anthropic model ids (§5.10); other names are sent as they are. */
const MODEL_IDS: Record<string, string> = {
  'claude-3.5-sonnet': 'claude-3-5-sonnet-20241022',
  'claude-3-opus': 'claude-3-opus-20240229',
  'claude-3-sonnet': 'claude-3-sonnet-20240229',
  'claude-3-haiku': 'claude-3-haiku-20240307',
};

// Loaded on first use: the SDK is a large import that most processes never need at start.
let sdk: Promise<typeof import('@anthropic-ai/sdk')> | undefined;
const loadSdk = () => (sdk ??= import('@anthropic-ai/sdk'));

export const anthropicModelId = (name: string) => MODEL_IDS[name.toLowerCase()] ?? name;

export function anthropicProvider(llm: LlmConfig): ChatProvider {
  const client = clientCache(async (apiKey, timeout): Promise<Anthropic> => {
    const { default: Sdk } = await loadSdk();
    return new Sdk({ apiKey, baseURL: llm.baseUrls.anthropic, timeout, maxRetries: 0, fetch: providerFetch });
  });

  return {
    async chat(req: ChatRequest): Promise<ChatReply> {
      const params = {
        model: anthropicModelId(req.model),
        system: req.system,
        max_tokens: llm.maxTokens,
        messages: alternateTurns(req.turns, 'assistant').map((t) => ({ role: t.role as 'user' | 'assistant', content: t.content })),
      };
      const api = await client(req.apiKey, llm.timeoutMs);
      if (!req.onDelta) {
        const message = await api.messages.create(params, { signal: req.signal });
        const content = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
        return { content, tokens: message.usage.input_tokens + message.usage.output_tokens, modelVersion: message.model || params.model };
      }
      const stream = await api.messages.create({ ...params, stream: true }, { signal: req.signal });
      let content = '';
      let input = 0;
      let output = 0;
      let modelVersion = params.model;
      for await (const event of stream) {
        if (event.type === 'message_start') {
          modelVersion = event.message.model || modelVersion;
          input = event.message.usage.input_tokens;
          output = event.message.usage.output_tokens;
        } else if (event.type === 'message_delta') {
          output = event.usage.output_tokens;
        } else if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
          content += event.delta.text;
          req.onDelta(event.delta.text);
        }
      }
      return { content, tokens: input + output, modelVersion };
    },

    async testConnection(apiKey: string): Promise<ConnectionTestResult> {
      try {
        // Listing models checks the key without spending tokens.
        await (await client(apiKey, llm.connectionTestTimeoutMs)).models.list({ limit: 1 });
        return { ok: true, error: null };
      } catch (error) {
        return { ok: false, error: connectionTestError(error, false) };
      }
    },
  };
}
