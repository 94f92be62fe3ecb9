/**
 * The coverage book: per (relay, scope), the ranges proven complete as last committed, the explicit
 * holes (what a live answer the relay may have capped left unproven, in coverage_holes from its EOSE
 * on, cleared only once exactly that interval is proven), the wanted starts of older versions
 * (coverage_wanted, still repaired), and the commits still in flight. A range is committed through
 * a pipeline marker, so it lands in the same transaction as the events it covers, fenced by the
 * relay's lock.
 */
import type { AppDatabase, Queryable } from '../../db/client.js';
import type { Logger } from '../../log.js';
import { coveredUntil, holes, mergeRanges, uncovered, type Range } from '../../ranges.js';
import { clearProvenHole, clearWanted, loadCoverage, loadHoles, loadWanted, recordCoverage, recordHoles } from '../../store/ingest-state.js';
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
  /** Explicit holes, as stored (not merged: each is cleared only when exactly it is proven). */
  private readonly explicit = new Map<string, Range[]>();
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

  /** Every (relay, scope) with coverage or an explicit hole. */
  keys(): string[] {
    return [...new Set([...this.ranges.keys(), ...this.explicit.keys()])];
  }

  /** The explicit holes of `key`, as recorded. */
  explicitHoles(key: string): Range[] {
    return this.explicit.get(key) ?? [];
  }

  /**
   * What health reports and repair proves: the explicit holes, the gaps between covered ranges,
   * and the stretch from a stored wanted start to the first covered range. Merged.
   */
  gapsOf(key: string, ranges: Range[] = this.ranges.get(key) ?? []): Range[] {
    const wanted = this.wantedSince.get(key);
    const newest = coveredUntil(ranges);
    const between = wanted !== undefined && newest !== null ? uncovered(ranges, { since: wanted, until: newest }) : holes(ranges);
    return mergeRanges([...between, ...this.explicitHoles(key)]);
  }

  /** One scope's covered ranges and gaps, per relay with coverage (for /health/ingest). */
  scopeReport(scope: string): { ranges: Record<string, Range[]>; holes: Record<string, Range[]> } {
    const ranges: Record<string, Range[]> = {};
    const gaps: Record<string, Range[]> = {};
    // Keys with only an explicit hole (nothing covered yet) are reported too.
    for (const key of this.keys()) {
      const [relay, keyScope] = splitCoverageKey(key);
      if (keyScope !== scope) continue;
      ranges[relay] = this.of(relay, keyScope);
      gaps[relay] = this.gapsOf(key);
    }
    return { ranges, holes: gaps };
  }

  /** A commit for (relay, scope) is in flight: the next advance waits for it. */
  committing(relay: string, scope: string): boolean {
    return this.inFlight.has(coverageKey(relay, scope));
  }

  /** Replaces the ranges and wanted starts of the relays selected with what the database holds. */
  async reload(select: (relay: string) => boolean): Promise<void> {
    const [rows, wanted, found] = await Promise.all([loadCoverage(this.o.db), loadWanted(this.o.db), loadHoles(this.o.db)]);
    for (const map of [this.ranges, this.wantedSince, this.explicit]) {
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
    for (const row of found) {
      if (!select(row.relay)) continue;
      const key = coverageKey(row.relay, row.scope);
      this.explicit.set(key, [...this.explicitHoles(key), { since: row.since, until: row.until }]);
    }
  }

  /** The parts of `hole` not covered now: what an answer that did not prove `hole` leaves open. */
  openPartsOf(relay: string, scope: string, hole: Range): Range[] {
    return uncovered(this.of(relay, scope), hole);
  }

  /**
   * Clears the explicit hole `hole` of (relay, scope) if exactly that interval is proven now (the
   * check is in the database, beside the coverage). True when it went.
   */
  async clearIfProven(relay: string, scope: string, hole: Range): Promise<boolean> {
    const key = coverageKey(relay, scope);
    if (!this.explicitHoles(key).some((h) => h.since === hole.since && h.until === hole.until)) return false;
    if (!(await clearProvenHole(this.o.db, relay, scope, hole))) return false;
    const left = this.explicitHoles(key).filter((h) => h.since !== hole.since || h.until !== hole.until);
    if (left.length > 0) this.explicit.set(key, left);
    else this.explicit.delete(key);
    return true;
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
  commit(relay: string, scope: string, range: Range | null, found: readonly Range[] = []): Promise<void> {
    const key = coverageKey(relay, scope);
    // Live coverage never claims an explicit hole's seconds: only its repair proves them.
    const pieces = range === null ? [] : this.explicitHoles(key).reduce<Range[]>((left, h) => left.flatMap((r) => uncovered([h], r)), [range]);
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    const settled = () => {
      const left = (this.inFlight.get(key) ?? 1) - 1;
      if (left > 0) this.inFlight.set(key, left);
      else this.inFlight.delete(key);
    };
    return this.o.pipeline
      .mark(async (tx) => {
        if (!(await this.o.fence(tx, relay))) {
          this.o.log.warn({ relay, scope, ...range }, 'coverage not recorded: relay no longer owned');
          return;
        }
        await recordHoles(tx, relay, scope, found);
        for (const piece of pieces) this.ranges.set(key, await recordCoverage(tx, relay, scope, piece));
        if (found.length > 0) this.explicit.set(key, mergeUnique([...this.explicitHoles(key), ...found]));
      }, relay)
      .catch((error: unknown) => this.o.log.error({ err: error, relay, scope }, 'coverage not recorded'))
      .finally(settled);
  }
}

/** Holes as a set of exact intervals (a repeat is kept once). */
function mergeUnique(found: Range[]): Range[] {
  const seen = new Map(found.map((h) => [`${h.since}:${h.until}`, { since: h.since, until: h.until }]));
  return [...seen.values()].sort((a, b) => a.since - b.since);
}
