/**
 * Model ids and providers (§5.7): which provider serves a conversation's `modelId`, how
 * /models/available names and places each connected integration in the 3D brain.
 */
import type { LlmConfig, ProviderName } from '../../config/env.js';

export const PROVIDERS = ['openai', 'anthropic', 'google', 'deepseek', 'groq'] as const satisfies readonly ProviderName[];
export type ChatProviderName = ProviderName | 'echo';

/** SUPPORTED_MODELS: model name → provider (21 entries). */
export const SUPPORTED_MODELS: Readonly<Record<string, ChatProviderName>> = {
  'gpt-4': 'openai',
  'gpt-4-turbo': 'openai',
  'gpt-4o': 'openai',
  'gpt-3.5-turbo': 'openai',
  'claude-3-opus': 'anthropic',
  'claude-3-sonnet': 'anthropic',
  'claude-3-haiku': 'anthropic',
  'claude-3.5-sonnet': 'anthropic',
  'gemini-2.0-flash': 'google',
  'gemini-2.0-flash-exp': 'google',
  'gemini-1.5-flash': 'google',
  'gemini-1.5-pro': 'google',
  'deepseek-chat': 'deepseek',
  'deepseek-coder': 'deepseek',
  'llama-3.3-70b-versatile': 'groq',
  'llama-3.1-8b-instant': 'groq',
  'mixtral-8x7b-32768': 'groq',
  'gemma2-9b-it': 'groq',
  echo: 'echo',
};

export interface ResolvedModel {
  provider: ChatProviderName;
  /** The model name without the `model-` prefix, e.g. `gpt-4o`. */
  name: string;
}

/** Strips every `model-` occurrence, as the original does. */
export const modelNameOf = (modelId: string) => modelId.split('model-').join('');

/**
 * The provider for a conversation's modelId: the catalogue (exact, then case-insensitive),
 * then the configured default models and the caller's own integration model ids
 * (so a model that a deployment or a user configured is not silently answered by echo),
 * else `echo` (§5.6).
 */
export function resolveModel(modelId: string, llm: LlmConfig, integrationModels: { provider: string; modelId: string | null }[] = []): ResolvedModel {
  const name = modelNameOf(modelId);
  const exact = SUPPORTED_MODELS[name];
  if (exact) return { provider: exact, name };
  const lower = name.toLowerCase();
  const loose = Object.entries(SUPPORTED_MODELS).find(([k]) => k.toLowerCase() === lower);
  if (loose) return { provider: loose[1], name };
  const byDefault = PROVIDERS.find((p) => llm.defaultModels[p].toLowerCase() === lower);
  if (byDefault) return { provider: byDefault, name };
  const byIntegration = integrationModels.find((i) => i.modelId && modelNameOf(i.modelId).toLowerCase() === lower);
  if (byIntegration && (PROVIDERS as readonly string[]).includes(byIntegration.provider)) {
    return { provider: byIntegration.provider as ProviderName, name };
  }
  return { provider: 'echo', name };
}

/** Python's str.title(): a letter is upper-cased when it follows a non-letter, else lower-cased. */
export function pythonTitle(text: string): string {
  let out = '';
  let previousIsLetter = false;
  for (const ch of text) {
    const isLetter = ch.toLowerCase() !== ch.toUpperCase();
    out += isLetter ? (previousIsLetter ? ch.toLowerCase() : ch.toUpperCase()) : ch;
    previousIsLetter = isLetter;
  }
  return out;
}

const REGIONS: Record<string, { brainRegion: string; anchor: [number, number, number] }> = {
  openai: { brainRegion: 'Left Cortex', anchor: [-1.8, 0.8, 1.0] },
  anthropic: { brainRegion: 'Right Cortex', anchor: [1.8, 0.8, 1.0] },
  google: { brainRegion: 'Occipital', anchor: [0, -1.2, 1.8] },
  deepseek: { brainRegion: 'Frontal Lobe', anchor: [0, 1.8, 1.2] },
  groq: { brainRegion: 'Temporal', anchor: [-1.5, -0.5, 1.5] },
  echo: { brainRegion: 'Cerebellum', anchor: [0, 0, 2.2] },
};

const BRAIN_RADIUS = 2.2;

/** The provider's brain region and its anchor scaled onto the sphere of radius 2.2. */
export function brainPlacement(provider: string): { brainRegion: string; position: { x: number; y: number; z: number } } {
  const region = REGIONS[provider];
  if (!region) return { brainRegion: 'Unknown', position: { x: 0, y: 0, z: BRAIN_RADIUS } };
  const [x, y, z] = region.anchor;
  const scale = BRAIN_RADIUS / Math.hypot(x, y, z);
  return { brainRegion: region.brainRegion, position: { x: x * scale, y: y * scale, z: z * scale } };
}

/** One CognitiveModel of /models/available (G7) for a connected integration. */
export function cognitiveModel(integration: { provider: string; modelId: string | null; modelName: string | null }, llm: LlmConfig) {
  const name = integration.modelId || llm.defaultModels[integration.provider as ProviderName] || integration.provider;
  return {
    id: `model-${name}`,
    provider: integration.provider,
    name,
    displayName: integration.modelName || pythonTitle(name.replace(/-/g, ' ')),
    ...brainPlacement(integration.provider),
    status: 'connected' as const,
  };
}
