/**
 * One extraction run (issue 19): the conversation's model, with the requesting user's key,
 * names the facts worth remembering in the messages not extracted yet; each fact is compared
 * with the most similar memories of the conversation's workspace (the hybrid search), and
 * the model decides ADD, UPDATE, DELETE or NONE. Every change is a version of the memory's
 * history with its provenance (conversation, message ids, model); a DELETE is soft.
 *
 * With no usable integration, or an answer that is still not the required JSON after one
 * retry, the run falls back to the transcript memory a close keeps (services/conversations/
 * close.ts) and records why on the extraction. A run records the last message it covered,
 * so extracting the same conversation again changes nothing.
 */
import type { Logger } from 'pino';
import type { Config } from '../../config/env.js';
import { type ExtractionOutcome, type ExtractionRow } from '../../data/conversation-extractions.js';
import { type FullConversation, lockConversation } from '../../data/conversations.js';
import { integrationsOf } from '../../data/integrations.js';
import { findMemory } from '../../data/memories.js';
import type { Db } from '../../data/sql.js';
import type { Database } from '../../db/client.js';
import { DecryptionError } from '../../lib/crypto.js';
import { generateTags, keepTranscriptMemory } from '../conversations/close.js';
import { getFullConversation } from '../conversations/index.js';
import { usableKey } from '../integrations/index.js';
import { type SearchEngine, searchMemories } from '../memories/search.js';
import { insertMemoryTx, reviseMemoryTx, softDeleteMemoryTx } from '../memories/service.js';
import type { Provenance } from '../memories/versions.js';
import { resolveModel } from '../providers/catalog.js';
import { scrubKey } from '../providers/errors.js';
import { callProvider, ProviderError, providerFor } from '../providers/index.js';
import type { ChatTurn } from '../providers/types.js';
import {
  type Action, Actions, boundedTranscript, type Candidate, CONSOLIDATION_SYSTEM, checkActions, consolidationPrompt, EXTRACTION_SYSTEM, type Fact, Facts,
  InvalidAnswer, MAX_FACTS, parseAnswer,
} from './prompts.js';

export interface ExtractionDeps {
  config: Config;
  db: Database;
  engine: SearchEngine;
  logger: Logger;
}

/** What a run did: the counts and tokens the extraction records. */
export interface ExtractionResult {
  facts: number;
  added: number;
  updated: number;
  deleted: number;
  unchanged: number;
  /** Tokens the provider reported for every call of the run (retries included). */
  tokens: number;
  calls: number;
  /** The memories the run wrote or deleted. */
  memoryIds: string[];
}

/** Runs of one extraction that end in an unexpected error (its claim released) before it falls back for good. */
export const MAX_ATTEMPTS = 3;

/** Similar memories compared with each fact. */
const CANDIDATES_PER_FACT = 3;

/** Why the model could not be used: the run falls back. */
class Fallback extends Error {}

const emptyResult = (): ExtractionResult => ({ facts: 0, added: 0, updated: 0, deleted: 0, unchanged: 0, tokens: 0, calls: 0, memoryIds: [] });

/** A memory title from a fact: its first line, cut at 80 characters. */
const titleOf = (text: string) => {
  const line = text.split('\n')[0]!.trim();
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
};

/** The messages a model may read again (failed questions and replies cut short are left out) after the last one extracted. */
function newMessages(conversation: FullConversation, throughMessageId: string | null) {
  const kept = conversation.messages.filter((m) => {
    const meta = (m.metadata ?? {}) as Record<string, unknown>;
    return (m.role === 'user' || m.role === 'assistant') && !meta.failed && !meta.incomplete;
  });
  const after = throughMessageId ? conversation.messages.findIndex((m) => m.id === throughMessageId) : -1;
  if (after < 0) return kept;
  const cut = conversation.messages[after]!;
  return kept.filter((m) => m.timestamp > cut.timestamp || (m.timestamp.getTime() === cut.timestamp.getTime() && m.id > cut.id));
}

/** Runs the claimed extraction to its outcome (the caller records it). */
export async function runExtraction(deps: ExtractionDeps, job: ExtractionRow): Promise<ExtractionOutcome & { memoryIds: string[] }> {
  const prisma = deps.db.prisma;
  const conversation = await getFullConversation(prisma, job.conversationId);
  const lastId = conversation.messages.at(-1)?.id ?? null;
  const messages = newMessages(conversation, job.throughMessageId);
  if (messages.length === 0) {
    return { status: 'done', throughMessageId: lastId ?? job.throughMessageId, error: null, result: { ...emptyResult() }, memoryIds: [] };
  }
  const result = emptyResult();
  try {
    if (job.attempts > MAX_ATTEMPTS) throw new Fallback(`The extraction failed ${MAX_ATTEMPTS} times`);
    const model = await modelFor(deps, job, conversation);
    const ask = asker(deps, model, result);
    const transcript = boundedTranscript(messages);
    const known = new Set(transcript.messageIds);
    const facts = (await ask(EXTRACTION_SYSTEM, transcript.text, (text) => parseAnswer(Facts, text)).then((a) => a.facts))
      .slice(0, MAX_FACTS)
      .map((f) => ({ ...f, messageIds: f.messageIds.filter((id) => known.has(id)) }));
    result.facts = facts.length;
    if (facts.length) {
      const candidates = await similarMemories(deps, job, conversation, facts);
      // Nothing similar stored: every fact is new, no need to ask.
      const actions: Action[] = candidates.length
        ? await ask(CONSOLIDATION_SYSTEM, consolidationPrompt(candidates, facts), (text) => checkActions(parseAnswer(Actions, text).actions, facts.length, candidates))
        : facts.map((_, fact) => ({ event: 'ADD', fact }));
      await apply(prisma, conversation, model.name, facts, candidates, actions, result);
    }
  } catch (error) {
    if (!(error instanceof Fallback)) throw error;
    const memory = await prisma.$transaction(async (tx) => {
      await lockConversation(tx, conversation.id);
      return keepTranscriptMemory(tx, await getFullConversation(tx, conversation.id), job.requestedById, new Date());
    });
    deps.logger.warn({ conversationId: conversation.id, reason: error.message }, 'extraction fell back to the transcript memory');
    const { memoryIds: _ids, ...counts } = result;
    return { status: 'fallback', error: error.message, result: { ...counts, transcriptMemoryId: memory?.id ?? null }, memoryIds: memory ? [memory.id] : [] };
  }
  const { memoryIds, ...counts } = result;
  return { status: 'done', throughMessageId: lastId, error: null, result: counts, memoryIds };
}

interface UsableModel {
  provider: Exclude<ReturnType<typeof resolveModel>['provider'], 'echo'>;
  name: string;
  apiKey: string;
}

/** The conversation's provider and the requesting user's usable key for it; Fallback when there is none. */
async function modelFor(deps: ExtractionDeps, job: ExtractionRow, conversation: FullConversation): Promise<UsableModel> {
  if (!job.requestedById) throw new Fallback('The user who asked for the extraction is gone');
  const integrations = await integrationsOf(deps.db.prisma, job.requestedById);
  const model = resolveModel(conversation.modelId, deps.config.llm, integrations);
  if (model.provider === 'echo') throw new Fallback(`No provider serves the model ${conversation.modelId}`);
  const integration = integrations.find((i) => i.provider === model.provider);
  if (!integration) throw new Fallback(`No connected integration found for provider: ${model.provider}`);
  try {
    const key = await usableKey(deps.db.prisma, deps.config, integration);
    if (key.apiKey === null) throw new Fallback(`The ${model.provider} integration cannot be used: ${key.errorMessage}`);
    return { provider: model.provider, name: model.name, apiKey: key.apiKey };
  } catch (error) {
    if (error instanceof DecryptionError) throw new Fallback(`The ${model.provider} API key cannot be decrypted`);
    throw error;
  }
}

/**
 * Asks the model one question whose answer `read` validates; an invalid answer is asked
 * once more (with what was wrong), then the run falls back. Provider failures fall back too.
 */
function asker(deps: ExtractionDeps, model: UsableModel, result: ExtractionResult) {
  const provider = providerFor(model.provider, deps.config.llm);
  const call = async (system: string, turns: ChatTurn[]) => {
    try {
      const reply = await callProvider(provider, { apiKey: model.apiKey, model: model.name, system, turns }, { timeoutMs: deps.config.llm.timeoutMs });
      result.tokens += reply.tokens;
      result.calls += 1;
      return reply.content;
    } catch (error) {
      if (error instanceof ProviderError) throw new Fallback(`The ${model.provider} call failed: ${scrubKey(error.message, model.apiKey)}`);
      throw error;
    }
  };
  return async <T>(system: string, question: string, read: (text: string) => T): Promise<T> => {
    const turns: ChatTurn[] = [{ role: 'user', content: question }];
    const first = await call(system, turns);
    try {
      return read(first);
    } catch (error) {
      if (!(error instanceof InvalidAnswer)) throw error;
      const again = await call(system, [...turns, { role: 'assistant', content: first.slice(0, 4000) }, { role: 'user', content: `${error.message} Answer again with the JSON only.` }]);
      try {
        return read(again);
      } catch (retryError) {
        if (retryError instanceof InvalidAnswer) throw new Fallback(`The model's answer was not valid after one retry: ${retryError.message}`);
        throw retryError;
      }
    }
  };
}

/**
 * The memories of the conversation's workspace most similar to the facts (the hybrid
 * search, as the requesting user), without the conversation's own transcript memory.
 */
async function similarMemories(deps: ExtractionDeps, job: ExtractionRow, conversation: FullConversation, facts: Fact[]): Promise<Candidate[]> {
  const byId = new Map<string, Candidate>();
  for (const fact of facts) {
    const { results } = await searchMemories(deps.db, deps.engine, {
      userId: job.requestedById!, workspaceIds: [conversation.workspaceId], query: fact.text, topK: CANDIDATES_PER_FACT + 1,
    });
    for (const { memory } of results.filter((r) => r.memory.id !== conversation.summaryMemoryId && r.memory.workspaceId === conversation.workspaceId).slice(0, CANDIDATES_PER_FACT)) {
      if (!byId.has(memory.id)) byId.set(memory.id, { alias: `m${byId.size}`, id: memory.id, title: memory.title, content: memory.content });
    }
  }
  return [...byId.values()];
}

/** Applies the decisions in one transaction, each change a version with the conversation's provenance. */
async function apply(
  prisma: Database['prisma'], conversation: FullConversation, model: string, facts: Fact[], candidates: Candidate[], actions: Action[], result: ExtractionResult,
) {
  const byAlias = new Map(candidates.map((c) => [c.alias, c]));
  const provenance = (fact: number): Provenance => ({ source: 'conversation', conversationId: conversation.id, messageIds: facts[fact]!.messageIds, model });
  const decided = new Set(actions.map((a) => a.fact));
  await prisma.$transaction(async (tx: Db) => {
    for (const action of actions) {
      if (action.event === 'NONE') {
        result.unchanged += 1;
        continue;
      }
      if (action.event === 'ADD') {
        const text = action.text ?? facts[action.fact]!.text;
        const memory = await insertMemoryTx(tx, {
          workspaceId: conversation.workspaceId,
          authorId: null,
          title: titleOf(text),
          content: text,
          tags: [...generateTags(text), 'extracted'],
          metadata: { source: 'extraction', conversation_id: conversation.id, message_ids: facts[action.fact]!.messageIds },
          provenance: provenance(action.fact),
        }, { activity: false });
        result.added += 1;
        result.memoryIds.push(memory.id);
        continue;
      }
      // The memory may have changed or gone since it was read, but never leaves its workspace.
      const current = await findMemory(tx, byAlias.get(action.memory)!.id);
      if (!current || current.workspaceId !== conversation.workspaceId) continue;
      if (action.event === 'UPDATE') {
        await reviseMemoryTx(tx, current, { title: titleOf(action.text), content: action.text }, 'UPDATE', provenance(action.fact));
        result.updated += 1;
      } else {
        await softDeleteMemoryTx(tx, current, provenance(action.fact));
        result.deleted += 1;
      }
      result.memoryIds.push(current.id);
    }
  });
  // A fact the model named in no action is taken as already known.
  result.unchanged += facts.length - facts.filter((_, i) => decided.has(i)).length;
}
