import type { ChatTurn } from './types.js';

/**
 * History for vendors that want user/other alternation starting with a user turn
 * (Anthropic, Google): system turns dropped (they travel in the system prompt), leading
 * non-user turns dropped, consecutive same-role turns merged (concurrent sends can
 * store two user messages in a row).
 */
export function alternateTurns(turns: ChatTurn[], other: 'assistant'): ChatTurn[] {
  const out: ChatTurn[] = [];
  for (const turn of turns) {
    if (turn.role === 'system') continue;
    const role = turn.role === 'user' ? 'user' : other;
    if (out.length === 0 && role !== 'user') continue;
    const last = out[out.length - 1];
    if (last && last.role === role) last.content += `\n\n${turn.content}`;
    else out.push({ role, content: turn.content });
  }
  return out;
}
