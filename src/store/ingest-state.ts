/**
 * Ingest state in Postgres: coverage ranges per (relay, scope) and what the daemon knows about each
 * relay. Coverage is written inside the transaction of the batch whose commit completes it.
 */
import { sql } from 'drizzle-orm';
import { query, type Queryable } from '../db/client.js';
import { mergeRanges, type Range } from '../ranges.js';

/** jsonb arrives parsed from postgres.js and as text from some paths: accept both. */
const parseJson = (v: unknown): unknown => (typeof v === 'string' ? (JSON.parse(v) as unknown) : v);

export interface CoverageRow extends Range {
  relay: string;
  scope: string;
}

export async function loadCoverage(db: Queryable, filter: { relay?: string; scope?: string } = {}): Promise<CoverageRow[]> {
  const rows = await query<{ relay: string; scope: string; since: number; until: number }>(
    db,
    sql`SELECT relay, scope, since, until FROM coverage_ranges
        WHERE ${filter.relay === undefined ? sql`TRUE` : sql`relay = ${filter.relay}`}
          AND ${filter.scope === undefined ? sql`TRUE` : sql`scope = ${filter.scope}`}
        ORDER BY relay, scope, since`,
  );
  return rows;
}

/**
 * Adds a proven range for (relay, scope) and stores the merged set. Rows are locked first so two
 * writers extending the same cursor cannot interleave.
 */
export async function recordCoverage(tx: Queryable, relay: string, scope: string, range: Range): Promise<Range[]> {
  if (range.until < range.since) return [];
  const existing = await query<{ since: number; until: number }>(
    tx,
    sql`SELECT since, until FROM coverage_ranges WHERE relay = ${relay} AND scope = ${scope} FOR UPDATE`,
  );
  const merged = mergeRanges([...existing, range]);
  await tx.execute(sql`DELETE FROM coverage_ranges WHERE relay = ${relay} AND scope = ${scope}`);
  await tx.execute(sql`
    INSERT INTO coverage_ranges (relay, scope, since, until)
    SELECT ${relay}, ${scope}, r.since, r.until FROM json_to_recordset(${JSON.stringify(merged)}::json) AS r(since bigint, until bigint)`);
  return merged;
}

export interface WantedRow {
  relay: string;
  scope: string;
  since: number;
}

export async function loadWanted(db: Queryable): Promise<WantedRow[]> {
  return query<WantedRow>(db, sql`SELECT relay, scope, since FROM coverage_wanted`);
}

/** Wants (relay, scope) covered from `since` (the earliest such wish is kept). */
export async function recordWanted(db: Queryable, relay: string, scope: string, since: number): Promise<void> {
  await db.execute(sql`
    INSERT INTO coverage_wanted (relay, scope, since) VALUES (${relay}, ${scope}, ${since})
    ON CONFLICT (relay, scope) DO UPDATE SET since = LEAST(coverage_wanted.since, excluded.since), updated_at = now()`);
}

/** The wish to cover (relay, scope) from `since` is met (a wish reaching further back stays). */
export async function clearWanted(db: Queryable, relay: string, scope: string, since: number): Promise<void> {
  await db.execute(sql`DELETE FROM coverage_wanted WHERE relay = ${relay} AND scope = ${scope} AND since >= ${since}`);
}

export interface HoleRow extends Range {
  relay: string;
  scope: string;
}

export async function loadHoles(db: Queryable): Promise<HoleRow[]> {
  const rows = await query<{ relay: string; scope: string; since: number | string; until: number | string }>(
    db,
    sql`SELECT relay, scope, since, until FROM coverage_holes ORDER BY relay, scope, since`,
  );
  return rows.map((r) => ({ relay: r.relay, scope: r.scope, since: Number(r.since), until: Number(r.until) }));
}

/** Records explicit holes of (relay, scope) (inside the transaction of the answer that left them). */
export async function recordHoles(tx: Queryable, relay: string, scope: string, found: readonly Range[]): Promise<void> {
  const valid = found.filter((h) => h.until >= h.since);
  if (valid.length === 0) return;
  await tx.execute(sql`
    INSERT INTO coverage_holes (relay, scope, since, until)
    SELECT ${relay}, ${scope}, r.since, r.until FROM json_to_recordset(${JSON.stringify(valid)}::json) AS r(since bigint, until bigint)
    ON CONFLICT DO NOTHING`);
}

/**
 * Clears the hole [since, until] of (relay, scope) if one covered range holds exactly that interval
 * (checked in the same statement, so a hole is never cleared on coverage that does not prove it).
 * True when a row went.
 */
export async function clearProvenHole(db: Queryable, relay: string, scope: string, hole: Range): Promise<boolean> {
  const rows = await query<{ since: number | string }>(
    db,
    sql`DELETE FROM coverage_holes h
        WHERE h.relay = ${relay} AND h.scope = ${scope} AND h.since = ${hole.since} AND h.until = ${hole.until}
          AND EXISTS (SELECT 1 FROM coverage_ranges c
                      WHERE c.relay = h.relay AND c.scope = h.scope AND c.since <= h.since AND c.until >= h.until)
        RETURNING h.since`,
  );
  return rows.length > 0;
}

export interface RelayRecord {
  url: string;
  status: string;
  failures: number;
  nextAttemptAt: Date | null;
  lastConnectedAt: Date | null;
  lastEventAt: Date | null;
  lastError: string | null;
  nip11: unknown;
  learned: Record<string, unknown>;
  authRequired: boolean;
}

/** Upserts the observable state of a relay (status, errors, NIP-11, learned limits). */
export async function saveRelayState(db: Queryable, r: Partial<RelayRecord> & { url: string }): Promise<void> {
  await db.execute(sql`
    INSERT INTO relays (url, status, failures, next_attempt_at, last_connected_at, last_event_at, last_error, nip11,
                        nip11_fetched_at, learned, auth_required, updated_at)
    VALUES (${r.url}, ${r.status ?? 'idle'}, ${r.failures ?? 0}, ${r.nextAttemptAt?.toISOString() ?? null},
            ${r.lastConnectedAt?.toISOString() ?? null}, ${r.lastEventAt?.toISOString() ?? null}, ${r.lastError ?? null},
            ${r.nip11 === undefined ? null : JSON.stringify(r.nip11)}::jsonb,
            ${r.nip11 === undefined ? null : new Date().toISOString()},
            ${JSON.stringify(r.learned ?? {})}::jsonb, ${r.authRequired ?? false}, now())
    ON CONFLICT (url) DO UPDATE SET
      status = excluded.status,
      failures = excluded.failures,
      next_attempt_at = excluded.next_attempt_at,
      last_connected_at = COALESCE(excluded.last_connected_at, relays.last_connected_at),
      last_event_at = COALESCE(excluded.last_event_at, relays.last_event_at),
      last_error = excluded.last_error,
      nip11 = COALESCE(excluded.nip11, relays.nip11),
      nip11_fetched_at = COALESCE(excluded.nip11_fetched_at, relays.nip11_fetched_at),
      learned = relays.learned || excluded.learned,
      -- A relay once seen demanding AUTH (learned) stays marked, whatever order status writes land in.
      auth_required = excluded.auth_required OR COALESCE((relays.learned || excluded.learned)->>'authRequired' = 'true', false),
      updated_at = now()`);
}

export async function loadRelayLearned(db: Queryable, url: string): Promise<{ learned: Record<string, unknown>; nip11: unknown } | null> {
  const rows = await query<{ learned: unknown; nip11: unknown }>(db, sql`SELECT learned, nip11 FROM relays WHERE url = ${url}`);
  const row = rows[0];
  if (!row) return null;
  return { learned: (parseJson(row.learned) ?? {}) as Record<string, unknown>, nip11: parseJson(row.nip11) };
}

/** Merges keys into `relays.learned` without touching the rest of the row (created if missing). */
export async function mergeRelayLearned(db: Queryable, url: string, learned: Record<string, unknown>): Promise<void> {
  await db.execute(sql`
    INSERT INTO relays (url, learned, updated_at) VALUES (${url}, ${JSON.stringify(learned)}::jsonb, now())
    ON CONFLICT (url) DO UPDATE SET learned = relays.learned || excluded.learned, updated_at = now()`);
}

export interface RelaySummary {
  url: string;
  status: string;
  learned: Record<string, unknown>;
}

/** Every known relay's status (as its owner last wrote it) and learned values. */
export async function loadRelays(db: Queryable): Promise<RelaySummary[]> {
  const rows = await query<{ url: string; status: string; learned: unknown }>(db, sql`SELECT url, status, learned FROM relays ORDER BY url`);
  return rows.map((r) => ({ url: r.url, status: r.status, learned: (parseJson(r.learned) ?? {}) as Record<string, unknown> }));
}
