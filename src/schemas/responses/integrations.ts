import { z } from 'zod';
import { PROVIDERS } from '../../services/providers/catalog.js';
import { timestamp } from './common.js';

/** A provider id: one of the built-in ones, or a name the operator declared (known only when the configuration is loaded). */
const providerId = () =>
  z.string().meta({ description: `${PROVIDERS.join(', ')}, or a provider declared in OPENAI_COMPATIBLE_PROVIDERS (e.g. ollama)`, examples: ['openai', 'ollama'] });

const integrationExample = {
  id: 'int-3c4d5e6f7a8b', provider: 'openai', modelId: 'gpt-4o', modelName: null, apiKey: 'sk-...xyz', status: 'connected',
  lastTested: '2025-12-08T06:43:35.123Z', errorMessage: null,
};

export const Integration = z
  .object({
    id: z.string(),
    provider: providerId(),
    modelId: z.string().nullable(),
    modelName: z.string().nullable(),
    apiKey: z.string().meta({ description: 'Masked: first 3 and last 3 characters, or ***; empty for an integration without a key (a declared provider that takes none)' }),
    status: z.enum(['connected', 'error', 'disconnected']),
    lastTested: timestamp().nullable(),
    errorMessage: z.string().nullable(),
  })
  .meta({ id: 'Integration', description: "A provider key of the caller's (never shown unmasked)", examples: [integrationExample] });

export const IntegrationList = z.object({ integrations: z.array(Integration), total: z.int() }).meta({ id: 'IntegrationList' });

export const IntegrationTest = z
  .object({ integration: Integration, message: z.string(), success: z.boolean() })
  .meta({ id: 'IntegrationTest', examples: [{ integration: integrationExample, message: 'Connection test successful', success: true }] });

const modelExample = {
  id: 'model-gpt-4o', provider: 'openai', name: 'gpt-4o', displayName: 'Gpt 4O', brainRegion: 'Left Cortex',
  position: { x: -1.7926078, y: 0.7967146, z: 0.9958932 }, status: 'connected',
};

export const CognitiveModel = z
  .object({
    id: z.string().meta({ description: 'model-<name>: the modelId a conversation is created with' }),
    provider: providerId(),
    name: z.string().meta({ description: "The model's name; <provider>/<model> for a provider declared in OPENAI_COMPATIBLE_PROVIDERS" }),
    displayName: z.string(),
    brainRegion: z.string(),
    position: z.object({ x: z.number(), y: z.number(), z: z.number() }),
    status: z.literal('connected'),
  })
  .meta({ id: 'CognitiveModel', examples: [modelExample] });

export const DeclaredProvider = z
  .object({
    provider: z.string().meta({ description: 'A name from OPENAI_COMPATIBLE_PROVIDERS' }),
    status: z.enum(['available', 'unavailable']).meta({ description: 'Whether its server answered its model list (within OPENAI_COMPATIBLE_MODELS_TIMEOUT)' }),
    error: z.string().nullable().meta({ description: 'Why the list could not be had' }),
    modelCount: z.int(),
    connected: z.boolean().meta({ description: 'Whether the caller has a connected integration for it; its models are listed only then' }),
    fetchedAt: timestamp(),
  })
  .meta({ id: 'DeclaredProvider', description: 'A provider the operator declared in OPENAI_COMPATIBLE_PROVIDERS and the state of its model list' });

export const ModelList = z
  .object({
    models: z.array(CognitiveModel),
    total: z.int(),
    providers: z.array(DeclaredProvider).meta({ description: 'Every declared OpenAI-compatible provider (empty when none is declared)' }),
  })
  .meta({ id: 'ModelList' });

export const LegacyModels = z
  .object({ models: z.record(z.string(), z.string()).meta({ description: 'Model name → provider' }), total: z.int() })
  .meta({ id: 'LegacyModels', examples: [{ models: { 'gpt-4o': 'openai', 'claude-3.5-sonnet': 'anthropic' }, total: 2 }] });
