/**
 * The app's control plane (ported from its Convex plan): users keyed by an external auth id, hashed
 * API tokens, organizations and their members, projects and repos, chat threads and messages with
 * their embeddings, issues, knowledge, agents and counters. Nostr comments never become `messages`.
 *
 * Conventions: ids are UUIDv7 generated server-side (time-ordered, so keyset pagination on `id`
 * follows creation order); wall-clock columns are timestamptz with millisecond precision, so a value
 * survives a round trip through a JavaScript Date and a keyset cursor; `user_id` columns hold the
 * external auth id (users.user_id), the id the API speaks. Embeddings are plain `real[]` columns: a
 * runtime step (src/control/vector.ts) adds a pgvector HNSW index on `(embedding::vector(N))` where
 * the extension exists, and the same column serves an exact scan where it does not.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { uuidv7 } from '../ids.js';

const id = () => uuid('id').primaryKey().$defaultFn(uuidv7);
const at = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' });
const createdAt = () => at('created_at').notNull().defaultNow();
const updatedAt = () => at('updated_at').notNull().defaultNow();

export const users = pgTable(
  'users',
  {
    id: id(),
    /** The external auth id (the web app's sign-in provider); the id every other table refers to. */
    userId: text('user_id').notNull().unique('users_user_id_key'),
    name: text('name'),
    username: text('username'),
    email: text('email'),
    image: text('image'),
    credits: bigint('credits', { mode: 'number' }).notNull().default(0),
    /** free | pro | enterprise */
    plan: text('plan').notNull().default('free'),
    referrerId: text('referrer_id'),
    /** GitHub credentials: encrypted by the app's backend before they get here; never returned by the API. */
    githubAccessTokenEnc: text('github_access_token_enc'),
    githubRefreshTokenEnc: text('github_refresh_token_enc'),
    githubTokenExpiresAt: at('github_token_expires_at'),
    stripeCustomerId: text('stripe_customer_id'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('users_plan_check', sql`${t.plan} IN ('free', 'pro', 'enterprise')`),
  ],
);

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: id(),
    userId: text('user_id')
      .notNull()
      .references(() => users.userId, { onDelete: 'cascade' }),
    /** SHA-256 (hex) of the whole token; the token itself is never stored. */
    tokenHash: text('token_hash').notNull(),
    /** The first characters of the token (`nc_` + 6), to recognise it in lists and revoke by prefix. */
    tokenPrefix: text('token_prefix').notNull(),
    name: text('name'),
    /** Admin tokens are minted only by the CLI (`tokens create --admin`). */
    isAdmin: boolean('is_admin').notNull().default(false),
    lastUsedAt: at('last_used_at'),
    createdAt: createdAt(),
    expiresAt: at('expires_at'),
    revokedAt: at('revoked_at'),
  },
  (t) => [uniqueIndex('api_tokens_token_hash_key').on(t.tokenHash), index('api_tokens_user_idx').on(t.userId, t.id)],
);

export const organizations = pgTable(
  'organizations',
  {
    id: id(),
    name: text('name').notNull(),
    logo: text('logo'),
    plan: text('plan').notNull().default('free'),
    credits: bigint('credits', { mode: 'number' }).notNull().default(0),
    /** The creator; ownership proper is the `owner` role in organization_members. */
    ownerId: text('owner_id').references(() => users.userId, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [check('organizations_plan_check', sql`${t.plan} IN ('free', 'pro', 'enterprise')`)],
);

export const organizationMembers = pgTable(
  'organization_members',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.userId, { onDelete: 'cascade' }),
    /** owner | member */
    role: text('role').notNull(),
    joinedAt: at('joined_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('organization_members_pair_key').on(t.organizationId, t.userId),
    index('organization_members_user_idx').on(t.userId),
    check('organization_members_role_check', sql`${t.role} IN ('owner', 'member')`),
  ],
);

/** Owner fields of a resource: exactly one of a user (personal) or an organization (shared with members). */
const ownerFields = () => ({
  userId: text('user_id').references(() => users.userId, { onDelete: 'cascade' }),
  organizationId: uuid('organization_id').references(() => organizations.id, { onDelete: 'cascade' }),
});
const oneOwner = (table: string, t: { userId: unknown; organizationId: unknown }) =>
  check(`${table}_owner_check`, sql`num_nonnulls(${t.userId}, ${t.organizationId}) = 1`);

export const projects = pgTable(
  'projects',
  {
    id: id(),
    name: text('name').notNull(),
    description: text('description'),
    ...ownerFields(),
    systemPrompt: text('system_prompt'),
    defaultModel: text('default_model'),
    defaultTools: jsonb('default_tools').$type<string[]>(),
    autopilotSpec: text('autopilot_spec'),
    autopilotPlan: jsonb('autopilot_plan'),
    autopilotPlanUpdatedAt: at('autopilot_plan_updated_at'),
    isArchived: boolean('is_archived').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    oneOwner('projects', t),
    index('projects_user_idx').on(t.userId, t.id).where(sql`${t.userId} IS NOT NULL`),
    index('projects_organization_idx').on(t.organizationId, t.id).where(sql`${t.organizationId} IS NOT NULL`),
    index('projects_updated_idx').on(t.updatedAt, t.id),
  ],
);

/**
 * A repository as one tenant (the owner of the projects linking it) knows it: its url may carry
 * credentials and its fields are editable, so two tenants linking the same provider/owner/name get
 * two rows (migration 0006 split the rows that were shared before).
 */
export const repos = pgTable(
  'repos',
  {
    id: id(),
    ...ownerFields(),
    provider: text('provider').notNull().default('github'),
    owner: text('owner').notNull(),
    name: text('name').notNull(),
    defaultBranch: text('default_branch'),
    url: text('url'),
    createdAt: createdAt(),
  },
  (t) => [
    oneOwner('repos', t),
    uniqueIndex('repos_user_provider_owner_name_key').on(t.userId, t.provider, t.owner, t.name).where(sql`${t.userId} IS NOT NULL`),
    uniqueIndex('repos_organization_provider_owner_name_key')
      .on(t.organizationId, t.provider, t.owner, t.name)
      .where(sql`${t.organizationId} IS NOT NULL`),
  ],
);

export const projectRepos = pgTable(
  'project_repos',
  {
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    repoId: uuid('repo_id')
      .notNull()
      .references(() => repos.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.repoId] }), index('project_repos_repo_idx').on(t.repoId)],
);

export const threads = pgTable(
  'threads',
  {
    id: id(),
    chatId: text('chat_id'),
    /** The author; an organization thread is visible to every member. */
    userId: text('user_id')
      .notNull()
      .references(() => users.userId, { onDelete: 'cascade' }),
    organizationId: uuid('organization_id').references(() => organizations.id, { onDelete: 'cascade' }),
    projectId: uuid('project_id').references(() => projects.id, { onDelete: 'set null' }),
    agentSlug: text('agent_slug'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>(),
    isArchived: boolean('is_archived').notNull().default(false),
    isShared: boolean('is_shared').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('threads_user_idx').on(t.userId, t.updatedAt, t.id),
    index('threads_organization_idx').on(t.organizationId, t.updatedAt, t.id).where(sql`${t.organizationId} IS NOT NULL`),
    index('threads_project_idx').on(t.projectId).where(sql`${t.projectId} IS NOT NULL`),
    index('threads_updated_idx').on(t.updatedAt, t.id),
  ],
);

export const messages = pgTable(
  'messages',
  {
    id: id(),
    threadId: uuid('thread_id')
      .notNull()
      .references(() => threads.id, { onDelete: 'cascade' }),
    /** Who posted it (null for assistant and system messages written by the backend). */
    userId: text('user_id').references(() => users.userId, { onDelete: 'set null' }),
    /** user | assistant | system | tool */
    role: text('role').notNull(),
    content: text('content').notNull().default(''),
    toolInvocations: jsonb('tool_invocations'),
    partsJson: jsonb('parts_json'),
    annotationsJson: jsonb('annotations_json'),
    finishReason: text('finish_reason'),
    promptTokens: integer('prompt_tokens'),
    completionTokens: integer('completion_tokens'),
    totalTokens: integer('total_tokens'),
    costUsd: doublePrecision('cost_usd'),
    createdAt: createdAt(),
  },
  (t) => [index('messages_thread_created_idx').on(t.threadId, t.createdAt, t.id)],
);

export const messageEmbeddings = pgTable(
  'message_embeddings',
  {
    id: id(),
    messageId: uuid('message_id')
      .notNull()
      .references(() => messages.id, { onDelete: 'cascade' }),
    embedding: real('embedding').array().notNull(),
    // Copied from the message's thread, so a search filters without joins.
    threadId: uuid('thread_id')
      .notNull()
      .references(() => threads.id, { onDelete: 'cascade' }),
    organizationId: uuid('organization_id').references(() => organizations.id, { onDelete: 'cascade' }),
    userId: text('user_id').references(() => users.userId, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('message_embeddings_message_key').on(t.messageId),
    index('message_embeddings_thread_idx').on(t.threadId),
    index('message_embeddings_organization_idx').on(t.organizationId).where(sql`${t.organizationId} IS NOT NULL`),
    index('message_embeddings_user_idx').on(t.userId),
  ],
);

export const issues = pgTable(
  'issues',
  {
    id: id(),
    identifier: text('identifier'),
    title: text('title').notNull(),
    description: text('description'),
    statusId: text('status_id'),
    priorityId: text('priority_id'),
    assigneeId: text('assignee_id'),
    labelIds: text('label_ids').array().notNull().default(sql`'{}'::text[]`),
    rank: text('rank'),
    dueDate: date('due_date', { mode: 'string' }),
    ...ownerFields(),
    projectId: uuid('project_id').references(() => projects.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    oneOwner('issues', t),
    index('issues_user_idx').on(t.userId, t.id).where(sql`${t.userId} IS NOT NULL`),
    index('issues_organization_idx').on(t.organizationId, t.id).where(sql`${t.organizationId} IS NOT NULL`),
    index('issues_project_idx').on(t.projectId).where(sql`${t.projectId} IS NOT NULL`),
  ],
);

export const issueThreads = pgTable(
  'issue_threads',
  {
    issueId: uuid('issue_id')
      .notNull()
      .references(() => issues.id, { onDelete: 'cascade' }),
    threadId: uuid('thread_id')
      .notNull()
      .references(() => threads.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.issueId, t.threadId] }), index('issue_threads_thread_idx').on(t.threadId)],
);

export const knowledge = pgTable(
  'knowledge',
  {
    id: id(),
    title: text('title').notNull(),
    content: text('content').notNull().default(''),
    embedding: real('embedding').array(),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    source: text('source'),
    ...ownerFields(),
    projectId: uuid('project_id').references(() => projects.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    oneOwner('knowledge', t),
    index('knowledge_user_idx').on(t.userId, t.id).where(sql`${t.userId} IS NOT NULL`),
    index('knowledge_organization_idx').on(t.organizationId, t.id).where(sql`${t.organizationId} IS NOT NULL`),
    index('knowledge_project_idx').on(t.projectId).where(sql`${t.projectId} IS NOT NULL`),
  ],
);

export const agents = pgTable(
  'agents',
  {
    id: id(),
    slug: text('slug').notNull(),
    name: text('name').notNull(),
    description: text('description'),
    systemPrompt: text('system_prompt'),
    modelId: text('model_id'),
    sortOrder: integer('sort_order').notNull().default(0),
    isDefault: boolean('is_default').notNull().default(false),
    flags: jsonb('flags').$type<Record<string, unknown>>().notNull().default({}),
    agentType: text('agent_type'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('agents_slug_key').on(t.slug)],
);

export const numbers = pgTable(
  'numbers',
  {
    id: id(),
    name: text('name').notNull(),
    value: bigint('value', { mode: 'number' }).notNull().default(0),
    ...ownerFields(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    oneOwner('numbers', t),
    uniqueIndex('numbers_user_name_key').on(t.userId, t.name).where(sql`${t.organizationId} IS NULL`),
    uniqueIndex('numbers_organization_name_key').on(t.organizationId, t.name).where(sql`${t.organizationId} IS NOT NULL`),
  ],
);
