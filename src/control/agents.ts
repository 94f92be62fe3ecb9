/** Agents: a catalogue every authenticated user reads and only admins write. */
import { and, eq } from 'drizzle-orm';
import type { Queryable } from '../db/client.js';
import { agents } from '../db/schema/index.js';
import { conflict, forbidden, notFound } from './errors.js';
import { keysetOrderBy, keysetWhere, pageSize, toPage, type KeysetOrder, type Page, type PageRequest } from './pagination.js';
import type { Caller } from './scope.js';
import { definedOnly } from './users.js';

export type AgentRow = typeof agents.$inferSelect;

export interface AgentInput {
  slug: string;
  name: string;
  description?: string | null | undefined;
  systemPrompt?: string | null | undefined;
  modelId?: string | null | undefined;
  sortOrder?: number | undefined;
  isDefault?: boolean | undefined;
  flags?: Record<string, unknown> | undefined;
  agentType?: string | null | undefined;
}

const order: KeysetOrder = { column: agents.sortOrder, kind: 'number', id: agents.id, direction: 'asc' };

function requireAdmin(caller: Caller): void {
  if (!caller.admin) throw forbidden('only an admin token may change agents');
}

/** In display order (sort_order, then creation). */
export async function listAgents(db: Queryable, request: PageRequest): Promise<Page<AgentRow>> {
  const limit = pageSize(request);
  const rows = await db
    .select()
    .from(agents)
    .where(keysetWhere(order, request.cursor))
    .orderBy(...keysetOrderBy(order))
    .limit(limit + 1);
  return toPage(rows, limit, (r) => [r.sortOrder, r.id]);
}

export async function getAgent(db: Queryable, slug: string): Promise<AgentRow> {
  const rows = await db.select().from(agents).where(eq(agents.slug, slug));
  if (!rows[0]) throw notFound('agent');
  return rows[0];
}

export async function createAgent(db: Queryable, caller: Caller, input: AgentInput): Promise<AgentRow> {
  requireAdmin(caller);
  const rows = await db
    .insert(agents)
    .values({ ...definedOnly(input), slug: input.slug, name: input.name })
    .onConflictDoNothing({ target: agents.slug })
    .returning();
  if (!rows[0]) throw conflict(`an agent with slug ${input.slug} exists`);
  return rows[0];
}

export async function updateAgent(db: Queryable, caller: Caller, slug: string, patch: Partial<Omit<AgentInput, 'slug'>>): Promise<AgentRow> {
  requireAdmin(caller);
  const rows = await db
    .update(agents)
    .set({ ...definedOnly(patch), updatedAt: new Date() })
    .where(and(eq(agents.slug, slug)))
    .returning();
  if (!rows[0]) throw notFound('agent');
  return rows[0];
}

export async function deleteAgent(db: Queryable, caller: Caller, slug: string): Promise<void> {
  requireAdmin(caller);
  const rows = await db.delete(agents).where(eq(agents.slug, slug)).returning({ id: agents.id });
  if (!rows[0]) throw notFound('agent');
}

