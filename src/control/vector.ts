/**
 * Vector search over plain `real[]` embedding columns, in one of two modes:
 * - `pgvector`: the extension exists (PGlite ships it; so may a server). An HNSW index on the
 *   expression `(embedding::vector(N)) vector_cosine_ops` serves top-k by cosine distance.
 * - `exact`: no extension (a stock Postgres server). The same queries compute cosine similarity over
 *   the arrays by a scan of the rows in the caller's reach.
 * Migrations must run on both engines, so the extension and the indexes are created here, at start,
 * after migrations. The dimension N is fixed by configuration; an index built for another N is
 * replaced (stored embeddings of the old dimension must then be re-embedded).
 */
import { sql, type SQL } from 'drizzle-orm';
import { query, type Database, type Queryable } from '../db/client.js';
import type { Logger } from '../log.js';
import { invalid } from './errors.js';

export type VectorMode = 'pgvector' | 'exact';

export interface VectorSupport {
  mode: VectorMode;
  dimension: number;
}

const VECTOR_LOCK_KEY = 7_236_010; // arbitrary, fixed: "nostr-cache vector indexes"
const EMBEDDING_TABLES = ['knowledge', 'message_embeddings'] as const;
const known = new WeakMap<Database, VectorSupport>();

export const indexName = (table: string, dimension: number) => `${table}_embedding_hnsw_${dimension}`;

function checkDimension(dimension: number): void {
  // pgvector's HNSW indexes vectors of up to 2,000 dimensions.
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > 2000) throw new Error(`invalid vector dimension ${dimension}`);
}

/**
 * Creates the extension and the HNSW indexes where possible; returns the mode now active. Safe to
 * run from several processes at once (one advisory lock), and on every start.
 */
export async function ensureVectorSupport(database: Database, dimension: number, log?: Logger): Promise<VectorMode> {
  checkDimension(dimension);
  let mode: VectorMode = 'pgvector';
  try {
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${VECTOR_LOCK_KEY})`);
      try {
        // A savepoint: without the extension only this step fails, not the transaction.
        await tx.transaction(async (savepoint) => {
          await savepoint.execute(sql`CREATE EXTENSION IF NOT EXISTS vector`);
        });
      } catch (error) {
        mode = 'exact';
        log?.info({ reason: (error as Error).message }, 'pgvector unavailable: vector search uses an exact scan');
        return;
      }
      for (const table of EMBEDDING_TABLES) {
        const wanted = indexName(table, dimension);
        const stale = await query<{ indexname: string }>(
          tx,
          sql`SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ${table}
              AND indexname LIKE ${`${table}_embedding_hnsw_%`} AND indexname <> ${wanted}`,
        );
        for (const { indexname } of stale) await tx.execute(sql`DROP INDEX IF EXISTS ${sql.identifier(indexname)}`);
        await tx.execute(
          sql`CREATE INDEX IF NOT EXISTS ${sql.identifier(wanted)} ON ${sql.identifier(table)}
              USING hnsw ((embedding::vector(${sql.raw(String(dimension))})) vector_cosine_ops)`,
        );
      }
    });
  } catch (error) {
    mode = 'exact';
    log?.warn({ err: error }, 'could not create the vector indexes: vector search uses an exact scan');
  }
  known.set(database, { mode, dimension });
  return mode;
}

/** The active mode: as set up by this process, else read from the catalog (both indexes present). */
export async function vectorSupport(database: Database, dimension: number): Promise<VectorSupport> {
  const cached = known.get(database);
  if (cached && cached.dimension === dimension) return cached;
  checkDimension(dimension);
  const names = EMBEDDING_TABLES.map((t) => indexName(t, dimension));
  const rows = await query<{ n: number }>(
    database.db,
    sql`SELECT count(*) AS n FROM pg_indexes WHERE schemaname = current_schema() AND indexname IN (${sql.join(
      names.map((n) => sql`${n}`),
      sql`, `,
    )})`,
  );
  const support: VectorSupport = { mode: (rows[0]?.n ?? 0) === names.length ? 'pgvector' : 'exact', dimension };
  known.set(database, support);
  return support;
}

/** A 400 naming the field unless the embedding has exactly `dimension` finite numbers. */
export function checkEmbedding(embedding: number[], dimension: number, field: string): void {
  if (embedding.length !== dimension) {
    throw invalid(field, `invalid ${field}: expected ${dimension} dimensions, got ${embedding.length}`);
  }
  if (!embedding.every((x) => Number.isFinite(x))) throw invalid(field, `invalid ${field}: every component must be a finite number`);
}

/**
 * The cosine similarity (1 = same direction) of `column` with the query vector, and the ORDER BY
 * that ranks by it (nearest first) in a way the active mode's index, if any, can serve.
 */
export function cosineRanking(column: SQL, embedding: number[], support: VectorSupport): { score: SQL; orderBy: SQL } {
  if (support.mode === 'pgvector') {
    const type = sql.raw(`vector(${support.dimension})`);
    const distance = sql`((${column})::${type} <=> ${`[${embedding.join(',')}]`}::${type})`;
    return { score: sql`(1 - ${distance})::float8`, orderBy: distance };
  }
  const score = sql`(SELECT sum(v.x::float8 * v.y::float8) / nullif(sqrt(sum(v.x::float8 * v.x::float8)) * sqrt(sum(v.y::float8 * v.y::float8)), 0)
    FROM unnest(${column}, ${`{${embedding.join(',')}}`}::real[]) AS v(x, y))`;
  return { score, orderBy: sql`${score} DESC NULLS LAST` };
}

/**
 * Runs a top-k query. In pgvector mode, the HNSW scan continues past its candidate list until k rows
 * pass the filters (iterative scan, strict order), so a filtered search is not cut short.
 */
export async function runVectorQuery<T>(database: Database, support: VectorSupport, run: (db: Queryable) => Promise<T>): Promise<T> {
  if (support.mode === 'exact') return run(database.db);
  return database.db.transaction(async (tx) => {
    await tx.execute(sql`SELECT set_config('hnsw.iterative_scan', 'strict_order', true)`);
    return run(tx);
  });
}
