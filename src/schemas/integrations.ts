import { z } from 'zod';
import type { LlmConfig } from '../config/env.js';
import { PROVIDERS, providerIds } from '../services/providers/catalog.js';
import { boolean, choice, msg, text } from './common.js';

/** Model names end up in conversation ids `model-<name>` (50 characters), hence 44. */
const modelField = () => text({ max: 44, allowBlank: true }).nullable().optional();
const nameField = () => text({ max: 100, allowBlank: true }).nullable().optional();
const apiKey = () => text({ min: 10, max: 500 });

/**
 * The request bodies of G2 and G4 for a configuration: the providers the operator declared in
 * OPENAI_COMPATIBLE_PROVIDERS are choices besides the built-in ones (so the document a server
 * serves lists its own), and only they may go without a key.
 */
export function integrationBodies(llm: LlmConfig) {
  const declared = llm.compatibleProviders.map((p) => p.name);
  const providerText =
    `${PROVIDERS.join(', ')}, or a provider the operator declared in OPENAI_COMPATIBLE_PROVIDERS` +
    (declared.length ? ` (on this server: ${declared.join(', ')})` : ' (none on the server this document was built for)');
  const createIntegrationBody = z
    .object({
      provider: choice(providerIds(llm)).meta({ description: providerText }),
      apiKey: apiKey().optional().meta({ description: 'Required for the built-in providers; a declared provider that takes no key (Ollama, LM Studio, …) needs none' }),
      modelId: modelField(),
      modelName: nameField(),
    })
    // Checked whatever else failed (an empty body names both fields), unless the key itself was refused.
    .refine((body) => body.apiKey !== undefined || declared.includes(body.provider), {
      path: ['apiKey'],
      error: msg.required,
      when: (payload) => !payload.issues.some((issue) => issue.path?.[0] === 'apiKey'),
    });
  const updateIntegrationBody = z.object({
    apiKey: apiKey().optional(),
    modelId: modelField(),
    modelName: nameField(),
  });
  return { createIntegrationBody, updateIntegrationBody };
}

/** G7's query: `refresh=1` lists the declared providers' models again instead of from the cache. */
export const availableModelsQuery = z.object({
  refresh: boolean().optional().meta({ description: "Fetch the declared providers' model lists again (they are otherwise kept for OPENAI_COMPATIBLE_MODELS_TTL)" }),
});
