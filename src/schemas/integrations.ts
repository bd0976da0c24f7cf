import { z } from 'zod';
import { PROVIDERS } from '../services/providers/catalog.js';
import { choice, text } from './common.js';

/** Model names end up in conversation ids `model-<name>` (50 characters), hence 44. */
const modelField = () => text({ max: 44, allowBlank: true }).nullable().optional();
const nameField = () => text({ max: 100, allowBlank: true }).nullable().optional();
const apiKey = () => text({ min: 10, max: 500 });

export const createIntegrationBody = z.object({
  provider: choice(PROVIDERS),
  apiKey: apiKey(),
  modelId: modelField(),
  modelName: nameField(),
});

export const updateIntegrationBody = z.object({
  apiKey: apiKey().optional(),
  modelId: modelField(),
  modelName: nameField(),
});
