/**
 * Model ids and providers (§5.7): which provider serves a conversation's `modelId`, how
 * /models/available names and places each connected integration in the 3D brain.
 *
 * Besides the five built-in vendors, the operator may declare OpenAI-compatible providers
 * (OPENAI_COMPATIBLE_PROVIDERS). Their models are named `<provider>/<model>` (ids
 * `model-<provider>/<model>`), so a conversation names its provider without any lookup, and
 * two servers offering a model of the same name stay apart.
 */
import { BUILT_IN_PROVIDERS, type CompatibleProvider, type LlmConfig, type ProviderName } from '../../config/env.js';

export const PROVIDERS = BUILT_IN_PROVIDERS;
/** A built-in provider, one the operator declared, or `echo`. */
export type ChatProviderName = string;

/** The declared OpenAI-compatible provider of that name, if any. */
export const compatibleProvider = (llm: LlmConfig, name: string): CompatibleProvider | undefined =>
  llm.compatibleProviders.find((p) => p.name === name);

export const isBuiltIn = (name: string): name is ProviderName => (PROVIDERS as readonly string[]).includes(name);

/** Every provider an integration may be for: the built-in ones, then the declared ones. */
export const providerIds = (llm: LlmConfig): [string, ...string[]] => [...PROVIDERS, ...llm.compatibleProviders.map((p) => p.name)];

export const isKnownProvider = (llm: LlmConfig, name: string) => isBuiltIn(name) || compatibleProvider(llm, name) !== undefined;

/** What a conversation's modelId can hold (C2 allows 50 characters). */
export const MODEL_ID_MAX = 50;

/** The model name of a declared provider's model: `<provider>/<model>`. */
export const compatibleModelName = (provider: string, model: string) => `${provider}/${model}`;

/** False when `model-<provider>/<model>` would not fit a conversation's modelId. */
export const fitsModelId = (provider: string, model: string) => `model-${compatibleModelName(provider, model)}`.length <= MODEL_ID_MAX;

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
  // `model-<provider>/<model>`: the model part is the server's own id, kept whole (it may contain `model-` or `/`).
  const prefixed = modelId.startsWith('model-') ? modelId.slice('model-'.length) : modelId;
  const slash = prefixed.indexOf('/');
  if (slash > 0 && compatibleProvider(llm, prefixed.slice(0, slash))) return { provider: prefixed.slice(0, slash), name: prefixed.slice(slash + 1) };
  const name = modelNameOf(modelId);
  const exact = SUPPORTED_MODELS[name];
  if (exact) return { provider: exact, name };
  const lower = name.toLowerCase();
  const loose = Object.entries(SUPPORTED_MODELS).find(([k]) => k.toLowerCase() === lower);
  if (loose) return { provider: loose[1], name };
  const byDefault = PROVIDERS.find((p) => llm.defaultModels[p].toLowerCase() === lower);
  if (byDefault) return { provider: byDefault, name };
  const byIntegration = integrationModels.find((i) => i.modelId && modelNameOf(i.modelId).toLowerCase() === lower);
  if (byIntegration && isKnownProvider(llm, byIntegration.provider)) return { provider: byIntegration.provider, name };
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

/**
 * Regions of the declared providers, in declaration order: the same rule as the built-in
 * ones (a region and an anchor, scaled onto the sphere), on the front of the brain where
 * the five vendors sit, away from their anchors.
 */
const DECLARED_REGIONS: { brainRegion: string; anchor: [number, number, number] }[] = [
  { brainRegion: 'Right Temporal', anchor: [1.5, -0.5, 1.5] },
  { brainRegion: 'Parietal Lobe', anchor: [0.9, 1.5, 1.3] },
  { brainRegion: 'Hippocampus', anchor: [-0.9, -1.5, 1.3] },
  { brainRegion: 'Brainstem', anchor: [0.9, -1.5, 1.3] },
  { brainRegion: 'Limbic System', anchor: [-0.9, 1.5, 1.3] },
  { brainRegion: 'Thalamus', anchor: [0.9, 0.3, 2.0] },
];

/** Past the named regions: points of a golden-angle spiral over the front hemisphere. */
function spiralRegion(index: number): { brainRegion: string; anchor: [number, number, number] } {
  const z = 1 - ((index % 12) + 0.5) / 12; // 0 < z < 1: the front half
  const r = Math.sqrt(1 - z * z);
  const angle = index * GOLDEN_ANGLE;
  return { brainRegion: 'Association Cortex', anchor: [r * Math.cos(angle), r * Math.sin(angle), z] };
}

const GOLDEN_ANGLE = Math.PI * (3 - Math.sqrt(5));
const BRAIN_RADIUS = 2.2;
/** Angular distance (radians) between neighbouring models of one provider. */
const MODEL_SPACING = 0.16;

type Vector = [number, number, number];
const unit = ([x, y, z]: Vector): Vector => {
  const length = Math.hypot(x, y, z);
  return [x / length, y / length, z / length];
};
const cross = ([a, b, c]: Vector, [x, y, z]: Vector): Vector => [b * z - c * y, c * x - a * z, a * y - b * x];

/**
 * The point of a provider's `index`-th model: the anchor itself for the first (so a built-in
 * provider's one model sits exactly where the contract puts it), the next ones on a small
 * spiral around it, all on the sphere, so no two models of a provider overlap.
 */
function around(anchor: Vector, index: number): Vector {
  const u = unit(anchor);
  const t1 = unit(cross(u, Math.abs(u[1]) < 0.99 ? [0, 1, 0] : [1, 0, 0]));
  const t2 = cross(u, t1);
  const theta = MODEL_SPACING * Math.sqrt(index);
  const phi = index * GOLDEN_ANGLE;
  const [c, s] = [Math.cos(theta), Math.sin(theta)];
  return [0, 1, 2].map((i) => c * u[i]! + s * (Math.cos(phi) * t1[i]! + Math.sin(phi) * t2[i]!)) as Vector;
}

function regionOf(provider: string, llm?: LlmConfig) {
  const builtIn = REGIONS[provider];
  if (builtIn) return builtIn;
  const declared = llm ? llm.compatibleProviders.findIndex((p) => p.name === provider) : -1;
  if (declared < 0) return null;
  return DECLARED_REGIONS[declared] ?? spiralRegion(declared - DECLARED_REGIONS.length);
}

/**
 * The provider's brain region and its anchor scaled onto the sphere of radius 2.2; a provider's
 * further models (`modelIndex` > 0) around it. Providers neither built in nor declared: Unknown, (0, 0, 2.2).
 */
export function brainPlacement(provider: string, llm?: LlmConfig, modelIndex = 0): { brainRegion: string; position: { x: number; y: number; z: number } } {
  const region = regionOf(provider, llm);
  if (!region) return { brainRegion: 'Unknown', position: { x: 0, y: 0, z: BRAIN_RADIUS } };
  // The first model: the anchor itself, scaled as the contract's table computes it.
  const [x, y, z] = modelIndex === 0 ? region.anchor : around(region.anchor, modelIndex);
  const scale = BRAIN_RADIUS / Math.hypot(x, y, z);
  return { brainRegion: region.brainRegion, position: { x: x * scale, y: y * scale, z: z * scale } };
}

/** The title the contract gives a model name: dashes as spaces, then Python's str.title(). */
const titleOf = (name: string) => pythonTitle(name.replace(/-/g, ' '));

/** One CognitiveModel of /models/available (G7) for a connected integration of a built-in provider. */
export function cognitiveModel(integration: { provider: string; modelId: string | null; modelName: string | null }, llm: LlmConfig) {
  const name = integration.modelId || llm.defaultModels[integration.provider as ProviderName] || integration.provider;
  return {
    id: `model-${name}`,
    provider: integration.provider,
    name,
    displayName: integration.modelName || titleOf(name),
    ...brainPlacement(integration.provider, llm),
    status: 'connected' as const,
  };
}

/**
 * The CognitiveModels of a connected integration of a declared provider: one per model its
 * server lists (`models`, in the server's order), the integration's own model first when it
 * names one (listed even while the server is unreachable, with the integration's display name).
 */
export function compatibleModels(integration: { provider: string; modelId: string | null; modelName: string | null }, models: readonly string[], llm: LlmConfig) {
  const own = integration.modelId || null;
  const names = own ? [own, ...models.filter((m) => m !== own)] : models;
  return names
    .filter((model) => fitsModelId(integration.provider, model))
    .map((model, index) => {
      const name = compatibleModelName(integration.provider, model);
      return {
        id: `model-${name}`,
        provider: integration.provider,
        name,
        displayName: (model === own && integration.modelName) || titleOf(model),
        ...brainPlacement(integration.provider, llm, index),
        status: 'connected' as const,
      };
    });
}
