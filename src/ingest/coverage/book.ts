/**
 * The coverage book: per (relay, scope), the ranges proven complete as last committed, the wanted
 * starts (the earliest since a live REQ asked whose answer did not prove it: the gap before the
 * first covered range is repaired like a hole, and kept in coverage_wanted so a restart does not
 * forget it), and the commits still in flight. A range is committed through a pipeline marker, so
 * it lands in the same transaction as the events it covers, fenced by the relay's lock.
 */
import type { AppDatabase, Queryable } from '../../db/client.js';
import type { Logger } from '../../log.js';
import { coveredUntil, holes, mergeRanges, uncovered, type Range } from '../../ranges.js';
import { clearWanted, loadCoverage, loadWanted, recordCoverage, recordWanted } from '../../store/ingest-state.js';
import type { IngestPipeline } from '../pipeline/pipeline.js';

const SEP = '\u0000';
export const coverageKey = (relay: string, scope: string): string => `${relay}${SEP}${scope}`;
export const splitCoverageKey = (key: string): [relay: string, scope: string] => key.split(SEP) as [string, string];

export interface CoverageBookOptions {
  db: AppDatabase;
  pipeline: IngestPipeline;
  log: Logger;
  /** Checked inside each coverage write: false when this daemon no longer owns the relay. */
  fence: (tx: Queryable, relay: string) => Promise<boolean>;
}

export class CoverageBook {
  private readonly ranges = new Map<string, Range[]>();
  private readonly wantedSince = new Map<string, number>();
  /** Coverage commits not yet settled (or failed), per coverage key. */
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly o: CoverageBookOptions) {}

  /** Every (relay, scope) with coverage, as [key, ranges]. */
  entries(): IterableIterator<[string, Range[]]> {
    return this.ranges.entries();
  }

  of(relay: string, scope: string): Range[] {
    return this.ranges.get(coverageKey(relay, scope)) ?? [];
  }

  coveredUntil(relay: string, scope: string): number | null {
    return coveredUntil(this.of(relay, scope));
  }

  /** The newest point any of `relays` has covered for `scope`. */
  scopeCoveredUntil(scope: string, relays: readonly string[]): number | null {
    let best: number | null = null;
    for (const url of relays) {
      const c = this.coveredUntil(url, scope);
      if (c !== null && (best === null || c > best)) best = c;
    }
    return best;
  }

  /** Holes between covered ranges, and the unproven start of a capped live answer (wanted). */
  gapsOf(key: string, ranges: Range[]): Range[] {
    const wanted = this.wantedSince.get(key);
    const newest = coveredUntil(ranges);
    return wanted !== undefined && newest !== null ? uncovered(ranges, { since: wanted, until: newest }) : holes(ranges);
  }

  /** One scope's covered ranges and gaps, per relay with coverage (for /health/ingest). */
  scopeReport(scope: string): { ranges: Record<string, Range[]>; holes: Record<string, Range[]> } {
    const ranges: Record<string, Range[]> = {};
    const gaps: Record<string, Range[]> = {};
    for (const [key, value] of this.ranges) {
      const [relay, keyScope] = splitCoverageKey(key);
      if (keyScope !== scope) continue;
      ranges[relay] = value;
      gaps[relay] = this.gapsOf(key, value);
    }
    return { ranges, holes: gaps };
  }

  /** A commit for (relay, scope) is in flight: the next advance waits for it. */
  committing(relay: string, scope: string): boolean {
    return this.inFlight.has(coverageKey(relay, scope));
  }

  /** Replaces the ranges and wanted starts of the relays selected with what the database holds. */
  async reload(select: (relay: string) => boolean): Promise<void> {
    const [rows, wanted] = await Promise.all([loadCoverage(this.o.db), loadWanted(this.o.db)]);
    for (const map of [this.ranges, this.wantedSince]) {
      for (const key of [...map.keys()]) if (select(splitCoverageKey(key)[0])) map.delete(key);
    }
    for (const row of rows) {
      if (!select(row.relay)) continue;
      const key = coverageKey(row.relay, row.scope);
      this.ranges.set(key, mergeRanges([...(this.ranges.get(key) ?? []), row]));
    }
    for (const row of wanted) {
      if (!select(row.relay)) continue;
      const key = coverageKey(row.relay, row.scope);
      this.wantedSince.set(key, Math.min(this.wantedSince.get(key) ?? row.since, row.since));
    }
  }

  /** A live answer proved less than it asked: remember its start for hole repair (also stored). */
  want(relay: string, scope: string, since: number): void {
    const key = coverageKey(relay, scope);
    this.wantedSince.set(key, Math.min(this.wantedSince.get(key) ?? since, since));
    recordWanted(this.o.db, relay, scope, since).catch((error: unknown) =>
      this.o.log.warn({ err: error, relay, scope }, 'could not store the wanted start; kept in memory'),
    );
  }

  /** The wanted start of `key` is met (no gap left): forget it. */
  clearMetWanted(key: string): void {
    const wanted = this.wantedSince.get(key);
    if (wanted === undefined) return;
    this.wantedSince.delete(key);
    const [relay, scope] = splitCoverageKey(key);
    clearWanted(this.o.db, relay, scope, wanted).catch((error: unknown) =>
      this.o.log.warn({ err: error, relay, scope }, 'could not clear the met wanted start'),
    );
  }

  /**
   * Records a covered range once every event submitted before now, and every copy of the relay's
   * still undecided, is committed, if this daemon still owns the relay at that commit.
   */
  commit(relay: string, scope: string, range: Range): void {
    const key = coverageKey(relay, scope);
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    const settled = () => {
      const left = (this.inFlight.get(key) ?? 1) - 1;
      if (left > 0) this.inFlight.set(key, left);
      else this.inFlight.delete(key);
    };
    this.o.pipeline
      .mark(async (tx) => {
        if (!(await this.o.fence(tx, relay))) {
          this.o.log.warn({ relay, scope, ...range }, 'coverage not recorded: relay no longer owned');
          return;
        }
        const merged = await recordCoverage(tx, relay, scope, range);
        this.ranges.set(key, merged);
      }, relay)
      .catch((error: unknown) => this.o.log.error({ err: error, relay, scope }, 'coverage not recorded'))
      .finally(settled);
  }
}
