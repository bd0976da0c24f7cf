/**
 * The two questions the extraction asks the conversation's model, and the strict JSON each
 * answer must be (validated with zod): the facts worth remembering in a transcript, then,
 * for those facts and the most similar memories of the workspace, ADD / UPDATE / DELETE /
 * NONE. Prompts are bounded by tokens (estimated at four characters a token): the newest
 * messages that fit, and the similar memories cut to a share each.
 */
import { z } from 'zod';

/** A rough token count: about four characters a token for English text. */
export const estimateTokens = (text: string) => Math.ceil(text.length / 4);

/** Token budget of the transcript in the extraction prompt. */
export const TRANSCRIPT_TOKENS = 3000;
/** A message's share of it at most, so one long paste does not crowd out the rest. */
const MESSAGE_TOKENS = 600;
/** Token budget of the existing memories in the consolidation prompt, and one memory's share at most. */
export const MEMORIES_TOKENS = 2000;
const MEMORY_TOKENS = 200;
/** Facts taken from one extraction at most. */
export const MAX_FACTS = 20;

const clip = (text: string, tokens: number) => (text.length > tokens * 4 ? `${text.slice(0, tokens * 4)}…` : text);

export interface TranscriptMessage {
  id: string;
  role: string;
  content: string;
}

/** The newest messages whose lines fit the transcript budget, oldest first, each cut to its share. */
export function boundedTranscript(messages: TranscriptMessage[]): { text: string; messageIds: string[] } {
  const lines: string[] = [];
  const ids: string[] = [];
  let used = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    const line = `[${m.id}] ${m.role === 'user' ? 'User' : 'Assistant'}: ${clip(m.content, MESSAGE_TOKENS)}`;
    const cost = estimateTokens(line);
    if (used + cost > TRANSCRIPT_TOKENS) break;
    used += cost;
    lines.unshift(line);
    ids.unshift(m.id);
  }
  return { text: lines.join('\n'), messageIds: ids };
}

export const EXTRACTION_SYSTEM = [
  'You extract the facts worth remembering from a conversation, for the shared memory of a team.',
  'Answer with JSON only, exactly this shape: {"facts": [{"text": "<fact>", "messageIds": ["<id>"]}]}',
  '- Each fact is one short, self-contained statement: a preference, decision, plan, name, number or date that will matter later.',
  '- messageIds: the ids (in square brackets) of the messages the fact comes from.',
  '- Leave out greetings, small talk and anything not worth keeping. With nothing to keep: {"facts": []}.',
].join('\n');

export const Facts = z.strictObject({
  facts: z.array(z.strictObject({ text: z.string().trim().min(1).max(2000), messageIds: z.array(z.string()).max(100) })).max(100),
});
export type Fact = z.infer<typeof Facts>['facts'][number];

export interface Candidate {
  /** The alias the model sees ("m0", "m1", …): it never sees, nor invents, real ids. */
  alias: string;
  id: string;
  title: string;
  content: string;
}

export const CONSOLIDATION_SYSTEM = [
  'You keep the shared memory of a team consistent. You get the existing memories most similar to some new facts.',
  'Decide for each new fact:',
  '- ADD: new information. {"event": "ADD", "fact": <index>}',
  '- UPDATE: it refines or corrects an existing memory about the same thing; give the merged memory. {"event": "UPDATE", "fact": <index>, "memory": "<id>", "text": "<merged memory>"}',
  '- DELETE: it shows an existing memory is now wrong. {"event": "DELETE", "fact": <index>, "memory": "<id>"} (also ADD the fact when it should be kept)',
  '- NONE: the memory already says it. {"event": "NONE", "fact": <index>, "memory": "<id>"}',
  'Answer with JSON only, exactly this shape: {"actions": [<one or more actions per fact>]}',
].join('\n');

/** The consolidation question: the candidates (each cut to its share of the budget) and the facts. */
export function consolidationPrompt(candidates: Candidate[], facts: Fact[]): string {
  const share = Math.min(MEMORY_TOKENS, Math.floor(MEMORIES_TOKENS / Math.max(1, candidates.length)));
  const memories = candidates.map((c) => `${c.alias}: ${clip(`${c.title} — ${c.content}`, share)}`);
  return [
    'Existing memories:',
    ...(memories.length ? memories : ['(none)']),
    '',
    'New facts:',
    ...facts.map((f, i) => `${i}: ${f.text}`),
  ].join('\n');
}

const factIndex = z.int().min(0);
export const Actions = z.strictObject({
  actions: z
    .array(
      z.discriminatedUnion('event', [
        z.strictObject({ event: z.literal('ADD'), fact: factIndex, text: z.string().trim().min(1).max(2000).optional() }),
        z.strictObject({ event: z.literal('UPDATE'), fact: factIndex, memory: z.string(), text: z.string().trim().min(1).max(4000) }),
        z.strictObject({ event: z.literal('DELETE'), fact: factIndex, memory: z.string() }),
        z.strictObject({ event: z.literal('NONE'), fact: factIndex, memory: z.string().optional() }),
      ]),
    )
    .max(200),
});
export type Action = z.infer<typeof Actions>['actions'][number];

/** Why an answer is refused: what the retry tells the model. */
export class InvalidAnswer extends Error {}

/** Parses an answer as JSON (a fenced ```json block is accepted) and validates it; InvalidAnswer otherwise. */
export function parseAnswer<T>(schema: z.ZodType<T>, text: string): T {
  const fenced = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/i.exec(text);
  let value: unknown;
  try {
    value = JSON.parse(fenced ? fenced[1]! : text);
  } catch {
    throw new InvalidAnswer('The answer is not JSON.');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InvalidAnswer(`The answer does not have the required shape: ${z.prettifyError(parsed.error).slice(0, 500)}`);
  return parsed.data;
}

/** The actions, checked against the facts and candidates they name; InvalidAnswer otherwise. */
export function checkActions(actions: Action[], facts: number, candidates: Candidate[]): Action[] {
  const aliases = new Set(candidates.map((c) => c.alias));
  const changed = new Set<string>();
  for (const a of actions) {
    if (a.fact >= facts) throw new InvalidAnswer(`Fact ${a.fact} does not exist.`);
    if ('memory' in a && a.memory !== undefined && !aliases.has(a.memory)) throw new InvalidAnswer(`Memory ${a.memory} does not exist.`);
    if (a.event === 'UPDATE' || a.event === 'DELETE') {
      if (changed.has(a.memory)) throw new InvalidAnswer(`Memory ${a.memory} is changed twice.`);
      changed.add(a.memory);
    }
  }
  return actions;
}
