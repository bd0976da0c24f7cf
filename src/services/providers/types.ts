/**
 * The one seam between chat and the LLM vendors (D11). Each provider speaks its vendor's
 * wire format through the official SDK; chat code only sees this interface.
 */
import type { LlmConfig } from '../../config/env.js';

export interface ChatTurn {
  role: 'user' | 'assistant' | 'system';
  content: string;
}

export interface ChatRequest {
  apiKey: string;
  /** The model name after `model-` is stripped (e.g. `gpt-4o`); providers map it to the vendor's id. */
  model: string;
  system: string;
  /** History, oldest first, ending with the new user turn (exactly once). */
  turns: ChatTurn[];
  signal: AbortSignal;
  /** Called with each piece of text as it arrives; when set, the provider streams. */
  onDelta?: (text: string) => void;
}

export interface ChatReply {
  content: string;
  tokens: number;
  /** The model the vendor reports having used. */
  modelVersion: string;
}

export interface ConnectionTestResult {
  ok: boolean;
  /** The §5.8 error text when the test failed. */
  error: string | null;
}

export interface ChatProvider {
  chat(request: ChatRequest): Promise<ChatReply>;
  testConnection(apiKey: string): Promise<ConnectionTestResult>;
}

export type ProviderFactory = (llm: LlmConfig) => ChatProvider;
