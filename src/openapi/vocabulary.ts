/** The words of the document that no route spec carries: tags, parameter descriptions, request examples. */

export const TAGS = [
  { name: 'auth', description: 'Accounts, sessions and tokens' },
  { name: 'workspaces', description: 'Workspaces, their stats, activity and neural load' },
  { name: 'team', description: 'Members of a workspace and invitations to join one' },
  { name: 'conversations', description: 'Conversations with a model, their messages and injected memories' },
  { name: 'memories', description: 'Memories: create, search (semantic + full-text) and import from URLs and files' },
  { name: 'integrations', description: "The caller's provider keys and the models they make available" },
  { name: 'settings', description: "The caller's settings, retention cleanup, data export and account deletion" },
  { name: 'mcp', description: 'Memory tools for agents: the legacy /api/mcp routes and the Model Context Protocol endpoint' },
  { name: 'legacy', description: 'Routes of the original server kept for compatibility' },
  { name: 'utility', description: 'Health, this document and its browsable page' },
];

export const PATH_PARAMETERS: Record<string, string> = {
  workspaceId: 'Workspace id (workspace-…)',
  conversationId: 'Conversation id (conv-…)',
  messageId: 'Message id (msg-…)',
  memoryId: 'Memory id (memory-…)',
  userId: "The member's user id (a UUID), not the team-member id",
  integrationId: 'Integration id (int-…)',
  invitationId: 'Invitation id (inv-…)',
  apiKeyId: 'API key id (key-…)',
};

export const QUERY_PARAMETERS: Record<string, string> = {
  limit: 'At most this many items (the full list when absent)',
  offset: 'Skip this many items first',
  search: 'Search terms: hybrid semantic and full-text ranking, as POST /api/memories/search',
  sortBy: 'recent (updatedAt, newest first; the default), title, or relevance (with search)',
  tags: 'Only items with any of these tags: comma-separated or repeated',
  workspace_id: "Workspace to act on (default: the caller's most recently updated workspace)",
  conversation_id: "Act on this conversation's workspace",
};

/** Request bodies a person would copy, by operation id (the linter checks each against its schema). */
export const REQUEST_EXAMPLES: Record<string, unknown> = {
  register: { name: 'Ada Lovelace', email: 'ada@example.com', password: 'correct horse battery' },
  login: { email: 'ada@example.com', password: 'correct horse battery' },
  createApiKey: { name: 'Claude Desktop', scopes: ['memories:read', 'memories:write'], expiresAt: '2027-12-31T00:00:00Z' },
  logout: { refresh: 'eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl' },
  refreshToken: { refresh: 'eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl' },
  updateProfile: { name: 'Ada King', email: 'ada.king@example.com', currentPassword: 'correct horse battery' },
  changePassword: { currentPassword: 'correct horse battery', newPassword: 'another long passphrase' },
  createWorkspace: { name: 'Research', description: 'Papers and notes' },
  updateWorkspace: { name: 'Research 2026', settings: { systemPrompt: 'Answer in British English.', defaultModelId: 'model-gpt-4o', autoRetrieve: true, retrievalTopK: 5 } },
  inviteTeamMember: { email: 'grace@example.com', role: 'researcher' },
  updateMemberRole: { role: 'admin' },
  updateMemberStatus: { status: 'away' },
  createConversation: { modelId: 'model-gpt-4o', title: 'Launch planning' },
  updateConversation: { title: 'Launch planning (final)', status: 'completed' },
  sendMessage: { content: 'What did we decide about the launch?', getAiResponse: true },
  updateMessage: { isPinned: true },
  injectMemory: { memoryId: 'memory-1a2b3c4d5e6f' },
  createMemory: { title: 'Launch plan', content: 'We launch on Friday after the final review.', tags: ['launch', 'plan'], metadata: { source: 'notes' } },
  updateMemory: { content: 'We launch on Monday after the final review.', tags: ['launch'] },
  searchMemories: { query: 'when do we launch', workspaceId: 'workspace-0a1b2c3d4e5f', top_k: 5 },
  importMemoryFromUrl: { url: 'https://example.com/articles/launch-plan', summarize: false },
  createIntegration: { provider: 'openai', apiKey: 'sk-your-openai-key', modelId: 'gpt-4o' },
  updateIntegration: { apiKey: 'sk-your-new-openai-key' },
  updateSettingsProfile: { name: 'Ada King' },
  updateMemoryRetention: { autoStore: true, retentionPeriod: '30-days' },
  legacyChat: { conversation_id: 'conv-0a1b2c3d4e5f', message: 'hello' },
  mcpRemember: { text: 'We launch on Friday after the final review.', title: 'Launch plan', tags: ['launch'] },
  mcpBatchRemember: { memories: [{ text: 'We launch on Friday.' }, { text: 'The review is on Thursday.', tags: ['review'] }] },
  mcpSearch: { query: 'launch', top_k: 5 },
  mcpInject: { max_memories: 5 },
  mcpRebuildIndex: { workspace_id: 'workspace-0a1b2c3d4e5f' },
  mcp: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_memories', arguments: { query: 'launch plan' } } },
};
