import type { AppDeps } from '../app-deps.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { account, integration } from '../policies/index.js';
import { presentIntegration, presentModelList } from '../presenters/integration.js';
import { availableModelsQuery, integrationBodies } from '../schemas/integrations.js';
import * as integrations from '../services/integrations/index.js';
import { MessageResult } from '../schemas/responses/common.js';
import { Integration, IntegrationList, IntegrationTest, ModelList } from '../schemas/responses/integrations.js';

const tag = 'integrations';

/** Integrations are strictly the caller's own: another user's id is 404 (§1.10). */
export function integrationRoutes(deps: AppDeps): RouteSpec[] {
  const keyring = integrations.keyringFor(deps.config);
  const present = (row: Parameters<typeof presentIntegration>[0]) => presentIntegration(row, keyring);
  const { createIntegrationBody, updateIntegrationBody } = integrationBodies(deps.config.llm);
  return [
    defineRoute({
      method: 'get', path: '/integrations', operationId: 'listIntegrations', contractId: 'G1', response: IntegrationList, tag, access: 'user', policy: account.can('read'),
      summary: "The caller's provider integrations (keys masked)",
      handler: async ({ deps, user }) => {
        const rows = await integrations.listIntegrations(deps.prisma, user.id);
        return { integrations: rows.map(present), total: rows.length };
      },
    }),
    defineRoute({
      method: 'post', path: '/integrations', operationId: 'createIntegration', contractId: 'G2', response: Integration, tag, access: 'user', policy: account.can('create-integration'), status: 201,
      summary: 'Add a provider key; it is tested live (10 s) and stored encrypted. A provider declared in OPENAI_COMPATIBLE_PROVIDERS may go without a key: its test lists its models',
      body: createIntegrationBody, bodyErrors: 'fields',
      responses: { 400: 'Field errors | Integration already exists for this provider' },
      handler: async ({ deps, user, body }) => present(await integrations.createIntegration(deps.prisma, deps.config, user.id, body)),
    }),
    defineRoute({
      method: 'get', path: '/integrations/:integrationId', operationId: 'getIntegration', contractId: 'G3', response: Integration, tag, access: 'user', policy: integration.can('read'),
      summary: 'One integration (key masked)',
      responses: { 404: 'Integration not found' },
      handler: async ({ deps, subject }) => present(await integrations.getIntegration(deps.prisma, subject.id)),
    }),
    defineRoute({
      method: 'put', path: '/integrations/:integrationId', operationId: 'updateIntegration', contractId: 'G4', response: Integration, tag, access: 'user', policy: integration.can('update'),
      summary: 'Replace the key (re-tested, re-encrypted) and/or the model id and name',
      body: updateIntegrationBody,
      responses: { 400: 'Invalid value', 404: 'Integration not found' },
      handler: async ({ deps, subject, body }) => present(await integrations.updateIntegration(deps.prisma, deps.config, subject.id, body)),
    }),
    defineRoute({
      method: 'delete', path: '/integrations/:integrationId', operationId: 'deleteIntegration', contractId: 'G5', response: MessageResult, tag, access: 'user', policy: integration.can('delete'),
      summary: 'Delete an integration',
      responses: { 404: 'Integration not found' },
      handler: async ({ deps, subject }) => {
        await integrations.deleteIntegration(deps.prisma, subject.id);
        return { message: 'Integration deleted successfully' };
      },
    }),
    defineRoute({
      method: 'post', path: '/integrations/:integrationId/test', operationId: 'testIntegration', contractId: 'G6', response: IntegrationTest, tag, access: 'user', policy: integration.can('update'),
      summary: 'Re-test the stored key (200 with success:false when the provider refuses it)',
      responses: { 400: 'Failed to decrypt API key', 404: 'Integration not found' },
      handler: async ({ deps, subject }) => {
        const result = await integrations.testIntegration(deps.prisma, deps.config, subject.id);
        return { integration: present(result.integration), message: result.message, success: result.success };
      },
    }),
    defineRoute({
      method: 'get', path: '/models/available', operationId: 'listAvailableModels', contractId: 'G7', response: ModelList, tag, access: 'user', policy: account.can('read'),
      query: availableModelsQuery,
      summary:
        'One model per connected integration, placed in the 3D brain (ids model-<name>); for a provider declared in OPENAI_COMPATIBLE_PROVIDERS, ' +
        "one per model its server lists (ids model-<provider>/<model>, lists cached; ?refresh=1 fetches them again), and each declared provider's state",
      handler: async ({ deps, user, query }) => {
        return presentModelList(await integrations.availableModels(deps.prisma, deps.config, user.id, { refresh: query.refresh === true }));
      },
    }),
  ];
}
