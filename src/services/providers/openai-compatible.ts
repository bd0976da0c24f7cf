/**
 * OpenAI chat completions through the `openai` SDK. DeepSeek, Groq and every provider the
 * operator declares in OPENAI_COMPATIBLE_PROVIDERS (Ollama, vLLM, LM Studio, llama.cpp's
 * server, …) speak the same protocol, so they are this provider with their own base URL (D11).
 * A declared provider may take no key: its calls then carry no Authorization header.
 */
import type OpenAI from 'openai';
import type { LlmConfig } from '../../config/env.js';
import { clientCache } from './client-cache.js';
import { connectionTestError, ProviderError } from './errors.js';
import { providerFetch } from '../../fast/provider-fetch.js';
import type { ChatProvider, ChatReply, ChatRequest, ConnectionTestResult } from './types.js';

// Loaded on first use: the SDK is a large import that most processes never need at start.
let sdk: Promise<typeof import('openai')> | undefined;
const loadSdk = () => (sdk ??= import('openai'));

export interface OpenAiCompatibleTarget {
  /** The provider's id, as error texts name it. */
  name: string;
  baseUrl: string;
  /** Connection-test statuses that still prove the key works (DeepSeek answers 402 to a valid key without balance, §5.8). */
  testOkStatuses?: readonly number[];
}

export interface OpenAiCompatibleProvider extends ChatProvider {
  /** The ids of the models the server's `/models` lists, in its order (at most MAX_LISTED_MODELS), within `timeoutMs`; else why not (§5.8's texts). */
  listModels(apiKey: string, timeoutMs: number): Promise<{ ok: true; models: string[] } | { ok: false; error: string }>;
}

/** A server listing more models than this is cut: the 3D brain has room for so many. */
export const MAX_LISTED_MODELS = 100;

/** A listed id worth offering: text of a sane length without control characters. */
const isModelId = (id: unknown): id is string => typeof id === 'string' && id.length > 0 && id.length <= 200 && !/[\u0000-\u001f\u007f]/.test(id);

/** The SDK's "could not connect" error (refused, reset, DNS), as opposed to a timeout or an HTTP answer. */
const isUnreachable = (error: unknown) => (error as object | null)?.constructor?.name === 'APIConnectionError';

export function openAiCompatibleProvider(target: OpenAiCompatibleTarget, llm: LlmConfig): OpenAiCompatibleProvider {
  const client = clientCache(async (apiKey, timeout): Promise<OpenAI> => {
    const { default: Sdk } = await loadSdk();
    // No key: the SDK still wants one, and a null header removes the Authorization it would build from it.
    const keyless = apiKey === '' ? { apiKey: 'unused', defaultHeaders: { Authorization: null } } : { apiKey };
    return new Sdk({ ...keyless, baseURL: target.baseUrl, timeout, maxRetries: 0, fetch: providerFetch });
  });

  return {
    async chat(req: ChatRequest): Promise<ChatReply> {
      const messages = [{ role: 'system' as const, content: req.system }, ...req.turns.map((t) => ({ role: t.role, content: t.content }))];
      const params = { model: req.model, messages, temperature: 0.7, max_tokens: llm.maxTokens };
      const api = await client(req.apiKey, llm.timeoutMs);
      try {
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
      } catch (error) {
        // The SDK says only "Connection error.": a self-hosted server that is down deserves its name.
        if (isUnreachable(error) && !req.signal.aborted) throw new ProviderError('upstream', `Connection error - unable to reach ${target.name}`);
        throw error;
      }
    },

    async testConnection(apiKey: string): Promise<ConnectionTestResult> {
      try {
        await (await client(apiKey, llm.connectionTestTimeoutMs)).models.list();
        return { ok: true, error: null };
      } catch (error) {
        const status = (error as { status?: number }).status;
        if (status !== undefined && target.testOkStatuses?.includes(status)) return { ok: true, error: null };
        return { ok: false, error: connectionTestError(error, false) };
      }
    },

    async listModels(apiKey: string, timeoutMs: number) {
      const api = await client(apiKey, timeoutMs);
      // From here: loading the SDK (on first use) is not the server's time.
      const deadline = AbortSignal.timeout(timeoutMs);
      try {
        const page = await api.models.list({ signal: deadline });
        const ids = (Array.isArray(page.data) ? page.data : []).map((model) => (model as { id?: unknown })?.id).filter(isModelId);
        return { ok: true as const, models: [...new Set(ids)].slice(0, MAX_LISTED_MODELS) };
      } catch (error) {
        return { ok: false as const, error: connectionTestError(error, deadline.aborted) };
      }
    },
  };
}
