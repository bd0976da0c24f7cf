/** The demo provider for model ids no vendor serves (§5.6, §5.10). */
import type { ChatProvider, ChatRequest } from './types.js';

export const echoReply = (message: string) =>
  `[Echo Mode] Received: ${message}\n\nThis is a demo response. Connect an LLM provider to get real AI responses.`;

export const echoProvider: ChatProvider = {
  async chat(req: ChatRequest) {
    const message = req.turns[req.turns.length - 1]?.content ?? '';
    const content = echoReply(message);
    req.onDelta?.(content);
    return { content, tokens: message.split(/\s+/).filter(Boolean).length, modelVersion: req.model };
  },
  async testConnection() {
    return { ok: true, error: null };
  },
};
