/**
 * Provider registry and the call wrapper every chat goes through: one deadline
 * (LLM_TIMEOUT) and the caller's cancellation combined into one AbortSignal, and SDK
 * errors normalised into ProviderError.
 */
import type { LlmConfig } from '../../config/env.js';
import { anthropicProvider } from './anthropic.js';
import { type ChatProviderName, compatibleProvider } from './catalog.js';
import { echoProvider } from './echo.js';
import { ProviderError, toProviderError } from './errors.js';
import { googleProvider } from './google.js';
import { openAiCompatibleProvider, type OpenAiCompatibleProvider } from './openai-compatible.js';
import type { ChatProvider, ChatReply, ChatRequest } from './types.js';

const cache = new WeakMap<LlmConfig, Map<ChatProviderName, ChatProvider>>();

/** A provider named by a stored row that the configuration no longer declares (§5.8's text). */
const unknownProvider = (name: string): ChatProvider => ({
  async chat() {
    throw new ProviderError('upstream', `Unknown provider: ${name}`);
  },
  async testConnection() {
    return { ok: false, error: `Unknown provider: ${name}` };
  },
});

function createProvider(name: ChatProviderName, llm: LlmConfig): ChatProvider {
  if (name === 'echo') return echoProvider;
  if (name === 'anthropic') return anthropicProvider(llm);
  if (name === 'google') return googleProvider(llm);
  if (name === 'openai' || name === 'groq') return openAiCompatibleProvider({ name, baseUrl: llm.baseUrls[name] }, llm);
  if (name === 'deepseek') return openAiCompatibleProvider({ name, baseUrl: llm.baseUrls.deepseek, testOkStatuses: [402] }, llm);
  const declared = compatibleProvider(llm, name);
  return declared ? openAiCompatibleProvider(declared, llm) : unknownProvider(name);
}

export function providerFor(name: ChatProviderName, llm: LlmConfig): ChatProvider {
  let providers = cache.get(llm);
  if (!providers) cache.set(llm, (providers = new Map()));
  let provider = providers.get(name);
  if (!provider) {
    provider = createProvider(name, llm);
    providers.set(name, provider);
  }
  return provider;
}

/** A provider the operator declared in OPENAI_COMPATIBLE_PROVIDERS (undefined for any other name). */
export function declaredProviderFor(name: string, llm: LlmConfig): OpenAiCompatibleProvider | undefined {
  return compatibleProvider(llm, name) ? (providerFor(name, llm) as OpenAiCompatibleProvider) : undefined;
}

export interface CallOptions {
  timeoutMs: number;
  /** Aborts the call when the client goes away (streaming). */
  cancel?: AbortSignal;
}

/** Runs one chat call under the deadline; failures come out as ProviderError with any partial text. */
export async function callProvider(provider: ChatProvider, request: Omit<ChatRequest, 'signal'>, options: CallOptions): Promise<ChatReply> {
  const deadline = new AbortController();
  const state = { timedOut: false, cancelled: false };
  const timer = setTimeout(() => {
    state.timedOut = true;
    deadline.abort(new Error('Request timeout'));
  }, options.timeoutMs);
  const onCancel = () => {
    state.cancelled = true;
    deadline.abort(new Error('Client disconnected'));
  };
  if (options.cancel?.aborted) onCancel();
  options.cancel?.addEventListener('abort', onCancel, { once: true });
  let partial = '';
  const onDelta = request.onDelta;
  try {
    const reply = await provider.chat({
      ...request,
      signal: deadline.signal,
      onDelta: onDelta
        ? (text) => {
            partial += text;
            onDelta(text);
          }
        : undefined,
    });
    // Some SDK streams end quietly when aborted: a reply cut by our deadline or a disconnect is not complete.
    if (state.timedOut || state.cancelled) throw toProviderError(new Error('aborted'), state, partial);
    return reply;
  } catch (error) {
    throw toProviderError(error, state, partial);
  } finally {
    clearTimeout(timer);
    options.cancel?.removeEventListener('abort', onCancel);
  }
}

export type { ChatProvider, ChatReply, ChatRequest, ChatTurn, ConnectionTestResult } from './types.js';
export { ProviderError } from './errors.js';
