/**
 * The prompt an LLM sees (§5.10, fixed): the workspace's own system prompt (when it has
 * one), then the base system prompt with the active injected memories (and, with D13,
 * retrieved ones) inside a character budget, then the last 10 messages, ending with the new
 * user turn exactly once. When the budget forces a cut, the prompt says so instead of
 * silently dropping text.
 */
import type { ChatTurn } from '../providers/index.js';

export const BASE_SYSTEM_PROMPT = 'You are a helpful AI assistant in the Chimera Protocol system.';
export const HISTORY_WINDOW = 10;
/** Below this many characters left, a memory is left out rather than cut to a stub. */
const MIN_EXCERPT = 200;

export interface ContextMemory {
  id: string;
  title: string;
  content: string;
}

interface Section {
  header: string;
  memories: ContextMemory[];
}

/** Renders one section within `budget` characters; returns the text, the ids used and what is left. */
function renderSection(section: Section, budget: number): { text: string; used: string[]; left: number } {
  if (section.memories.length === 0) return { text: '', used: [], left: budget };
  let text = `\n\n=== ${section.header} ===\n`;
  const used: string[] = [];
  let left = budget;
  let omitted = 0;
  for (const memory of section.memories) {
    if (left >= memory.content.length) {
      text += `\n[${memory.title}]\n${memory.content}\n`;
      left -= memory.content.length;
      used.push(memory.id);
    } else if (left >= MIN_EXCERPT) {
      text += `\n[${memory.title}]\n${memory.content.slice(0, left)}\n[Truncated: showing the first ${left} of ${memory.content.length} characters of this memory.]\n`;
      left = 0;
      used.push(memory.id);
    } else {
      omitted += 1;
    }
  }
  if (omitted > 0) text += `\n[Note: ${omitted} more memor${omitted === 1 ? 'y was' : 'ies were'} left out to fit the context budget.]\n`;
  text += '\n=== End Context ===\n';
  return { text, used, left };
}

/**
 * The system prompt, and the ids of the memories that made it in (whole or cut), per section.
 * `workspacePrompt` (the workspace's setting, outside the memory budget) comes first.
 */
export function buildSystemPrompt(injected: ContextMemory[], retrieved: ContextMemory[], budgetChars: number, workspacePrompt: string | null = null) {
  const first = renderSection({ header: 'Injected Context', memories: injected }, budgetChars);
  const second = renderSection({ header: 'Retrieved Context', memories: retrieved }, first.left);
  const base = workspacePrompt ? `${workspacePrompt}\n\n${BASE_SYSTEM_PROMPT}` : BASE_SYSTEM_PROMPT;
  return { system: base + first.text + second.text, injectedIds: first.used, retrievedIds: second.used };
}

/** The stored history window (oldest first), which already ends with the new user message. */
export function historyTurns(messages: { role: string; content: string }[]): ChatTurn[] {
  return messages.slice(-HISTORY_WINDOW).map((m) => ({ role: m.role as ChatTurn['role'], content: m.content }));
}
