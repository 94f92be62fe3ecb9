/** What the database server reports about its own connections (for /metrics). */
import { sql } from 'drizzle-orm';
import { query, type Queryable } from '../db/client.js';

/** Server connections to this database by state (pg_stat_activity), the pool included. */
export async function connectionsByState(db: Queryable): Promise<Array<{ state: string; count: number }>> {
  const rows = await query<{ state: string; n: number }>(
    db,
    sql`SELECT COALESCE(state, 'unknown') AS state, count(*) AS n FROM pg_stat_activity
        WHERE datname = current_database() GROUP BY 1`,
  );
  return rows.map((row) => ({ state: row.state, count: row.n }));
}
