/**
 * When coverage was proven (coverage_proofs): the settle window re-checks pieces proven long
 * enough ago. Written inside the transaction that records the coverage itself.
 */
import { sql } from 'drizzle-orm';
import { query, type Queryable } from '../db/client.js';
import { recordProof, type ProvenRange, type Range } from '../ranges.js';

export interface ProofRow extends ProvenRange {
  relay: string;
  scope: string;
}

export async function loadProofs(db: Queryable, filter: { relay?: string } = {}): Promise<ProofRow[]> {
  const rows = await query<{ relay: string; scope: string; since: number | string; until: number | string; proven_at: number | string }>(
    db,
    sql`SELECT relay, scope, since, until, proven_at FROM coverage_proofs
        WHERE ${filter.relay === undefined ? sql`TRUE` : sql`relay = ${filter.relay}`}
        ORDER BY relay, scope, since`,
  );
  return rows.map((r) => ({ relay: r.relay, scope: r.scope, since: Number(r.since), until: Number(r.until), provenAt: Number(r.proven_at) }));
}

/** [since, until] of (relay, scope) was proven at `at` (unix seconds). Rows are locked first. */
export async function storeProof(tx: Queryable, relay: string, scope: string, range: Range, at: number): Promise<void> {
  if (range.until < range.since) return;
  const existing = await query<{ since: number | string; until: number | string; proven_at: number | string }>(
    tx,
    sql`SELECT since, until, proven_at FROM coverage_proofs WHERE relay = ${relay} AND scope = ${scope} FOR UPDATE`,
  );
  const pieces = recordProof(
    existing.map((r) => ({ since: Number(r.since), until: Number(r.until), provenAt: Number(r.proven_at) })),
    range,
    at,
  );
  await tx.execute(sql`DELETE FROM coverage_proofs WHERE relay = ${relay} AND scope = ${scope}`);
  await tx.execute(sql`
    INSERT INTO coverage_proofs (relay, scope, since, until, proven_at)
    SELECT ${relay}, ${scope}, r.since, r.until, r.proven_at
    FROM json_to_recordset(${JSON.stringify(pieces.map((p) => ({ since: p.since, until: p.until, proven_at: p.provenAt })))}::json)
      AS r(since bigint, until bigint, proven_at bigint)`);
}

/** Forgets proofs of seconds before `before`: no settle window reaches them. */
export async function pruneProofs(db: Queryable, before: number): Promise<void> {
  await db.execute(sql`DELETE FROM coverage_proofs WHERE until < ${before}`);
}
