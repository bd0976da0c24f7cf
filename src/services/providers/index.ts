/**
 * Provider registry and the call wrapper every chat goes through: one deadline
 * (LLM_TIMEOUT) and the caller's cancellation combined into one AbortSignal, and SDK
 * errors normalised into ProviderError.
 */
import type { LlmConfig, ProviderName } from '../../config/env.js';
import { anthropicProvider } from './anthropic.js';
import type { ChatProviderName } from './catalog.js';
import { echoProvider } from './echo.js';
import { toProviderError } from './errors.js';
import { googleProvider } from './google.js';
import { openAiCompatibleProvider } from './openai-compatible.js';
import type { ChatProvider, ChatReply, ChatRequest } from './types.js';

const cache = new WeakMap<LlmConfig, Map<ChatProviderName, ChatProvider>>();

export function providerFor(name: ChatProviderName, llm: LlmConfig): ChatProvider {
  let providers = cache.get(llm);
  if (!providers) cache.set(llm, (providers = new Map()));
  let provider = providers.get(name);
  if (!provider) {
    provider =
      name === 'echo' ? echoProvider
      : name === 'anthropic' ? anthropicProvider(llm)
      : name === 'google' ? googleProvider(llm)
      : openAiCompatibleProvider(name as Extract<ProviderName, 'openai' | 'deepseek' | 'groq'>, llm);
    providers.set(name, provider);
  }
  return provider;
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
