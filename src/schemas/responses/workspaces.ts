import { z } from 'zod';
import { MEMBER_ROLES, MEMBER_STATUSES } from '../team.js';
import { RETRIEVAL_TOP_K_MAX, SYSTEM_PROMPT_MAX_CHARS } from '../workspaces.js';
import { jsonObject, timestamp } from './common.js';



const memberExample = {
  id: 'tm-1a2b3c4d5e6f', userId: '3f2b8c1e-5d4a-4b6f-9e21-7a0c9d8e1f23', workspaceId: 'workspace-0a1b2c3d4e5f', role: 'admin', status: 'online',
  joinedAt: '2025-12-08T06:00:00.123Z', user: { id: '3f2b8c1e-5d4a-4b6f-9e21-7a0c9d8e1f23', name: 'Ada Lovelace', email: 'ada@example.com' },
};

export const TeamMember = z
  .object({
    id: z.string(),
    userId: z.string().meta({ format: 'uuid' }),
    workspaceId: z.string(),
    role: z.enum(MEMBER_ROLES),
    status: z.enum(MEMBER_STATUSES),
    joinedAt: timestamp(),
    user: z.object({ id: z.string().meta({ format: 'uuid' }), name: z.string(), email: z.string() }),
  })
  .meta({ id: 'TeamMember', description: "A workspace member (the owner's own row included)", examples: [memberExample] });

const statsExample = { totalMemories: 12, totalEmbeddings: 11, totalConversations: 3, systemLoad: 24, lastActivity: '2025-12-08T06:43:35.123Z' };

export const WorkspaceStats = z
  .object({
    totalMemories: z.int(),
    totalEmbeddings: z.int().meta({ description: 'Memories whose embedding is stored' }),
    totalConversations: z.int(),
    systemLoad: z.int().min(0).max(100).meta({ description: 'min(100, 10 × active conversations + messages in the last 60 minutes)' }),
    lastActivity: timestamp(),
  })
  .meta({ id: 'WorkspaceStats', examples: [statsExample] });

const settingsExample = { systemPrompt: null, defaultModelId: null, autoRetrieve: false, autoExtract: false, retrievalTopK: 5 };

export const WorkspaceSettings = z
  .object({
    systemPrompt: z.string().max(SYSTEM_PROMPT_MAX_CHARS).nullable().meta({ description: 'Prepended to every chat of the workspace' }),
    defaultModelId: z.string().nullable().meta({ description: 'The model (`model-<name>`) of a conversation created without one' }),
    autoRetrieve: z.boolean().meta({ description: 'Chats add the most relevant workspace memories to their context (a message may override it)' }),
    autoExtract: z.boolean().meta({ description: 'Closing a conversation extracts its facts into memories' }),
    retrievalTopK: z.int().min(1).max(RETRIEVAL_TOP_K_MAX).meta({ description: 'How many memories auto-retrieve adds' }),
  })
  .meta({ id: 'WorkspaceSettings', description: 'Changed by owners and admins through PUT /workspaces/{workspaceId}', examples: [settingsExample] });

export const Workspace = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    ownerId: z.string().meta({ format: 'uuid' }),
    members: z.array(TeamMember),
    stats: WorkspaceStats,
    settings: WorkspaceSettings,
    createdAt: timestamp(),
    updatedAt: timestamp(),
  })
  .meta({
    id: 'Workspace',
    examples: [{
      id: 'workspace-0a1b2c3d4e5f', name: "Ada Lovelace's Workspace", description: '', ownerId: '3f2b8c1e-5d4a-4b6f-9e21-7a0c9d8e1f23',
      members: [memberExample], stats: statsExample, settings: settingsExample, createdAt: '2025-12-08T06:00:00.123Z', updatedAt: '2025-12-08T06:00:00.123Z',
    }],
  });

export const WorkspaceList = z.object({ workspaces: z.array(Workspace), total: z.int() }).meta({ id: 'WorkspaceList' });

export const Activity = z
  .object({ id: z.string(), type: z.string(), message: z.string(), timestamp: timestamp(), metadata: jsonObject() })
  .meta({
    id: 'Activity',
    examples: [{ id: 'activity-9f8e7d6c5b4a', type: 'memory_created', message: "Memory 'Launch plan' created", timestamp: '2025-12-08T06:43:35.123Z', metadata: { memoryId: 'memory-1a2b3c4d5e6f', memoryTitle: 'Launch plan' } }],
  });

export const LoadPoint = z
  .object({ timestamp: timestamp(), value: z.int().min(0).max(100) })
  .meta({ id: 'LoadPoint', examples: [{ timestamp: '2025-12-08T06:45:00.000Z', value: 24 }] });

/** 24 points, 5 minutes apart, ending now. */
const neuralLoad = z.array(LoadPoint).length(24);

export const Dashboard = z
  .object({ stats: WorkspaceStats, neuralLoad, recentActivity: z.array(Activity).max(10) })
  .meta({ id: 'Dashboard' });

export const ActivityList = z.object({ activities: z.array(Activity), total: z.int() }).meta({ id: 'ActivityList' });

export const NeuralLoad = z.object({ neuralLoad, currentLoad: z.int().min(0).max(100) }).meta({ id: 'NeuralLoad' });

export const LoadRecorded = z
  .object({ currentLoad: z.int().min(0).max(100), message: z.string() })
  .meta({ id: 'LoadRecorded', examples: [{ currentLoad: 24, message: 'Load snapshot recorded' }] });

export const TeamList = z.object({ members: z.array(TeamMember), total: z.int() }).meta({ id: 'TeamList' });



export const SentInvitation = z
  .object({
    id: z.string(), workspaceId: z.string(), workspaceName: z.string(), inviteeEmail: z.string(),
    role: z.enum(MEMBER_ROLES), status: z.literal('pending'), createdAt: timestamp(), message: z.string(),
  })
  .meta({
    id: 'SentInvitation',
    examples: [{
      id: 'inv-5e6f7a8b9c0d', workspaceId: 'workspace-0a1b2c3d4e5f', workspaceName: "Ada Lovelace's Workspace", inviteeEmail: 'grace@example.com',
      role: 'researcher', status: 'pending', createdAt: '2025-12-08T06:43:35.123Z', message: 'Invitation sent successfully',
    }],
  });

export const Invitation = z
  .object({
    id: z.string(), workspaceId: z.string(), workspaceName: z.string(), inviterName: z.string(), inviterEmail: z.string(),
    role: z.enum(MEMBER_ROLES), status: z.literal('pending'), createdAt: timestamp(),
  })
  .meta({
    id: 'Invitation',
    examples: [{
      id: 'inv-5e6f7a8b9c0d', workspaceId: 'workspace-0a1b2c3d4e5f', workspaceName: "Ada Lovelace's Workspace", inviterName: 'Ada Lovelace',
      inviterEmail: 'ada@example.com', role: 'researcher', status: 'pending', createdAt: '2025-12-08T06:43:35.123Z',
    }],
  });

export const InvitationList = z.object({ invitations: z.array(Invitation), total: z.int() }).meta({ id: 'InvitationList' });

export const InvitationAccepted = z
  .object({ message: z.string(), workspaceId: z.string(), workspaceName: z.string() })
  .meta({ id: 'InvitationAccepted', examples: [{ message: 'Invitation accepted', workspaceId: 'workspace-0a1b2c3d4e5f', workspaceName: "Ada Lovelace's Workspace" }] });
