/**
 * Coverage markers: work (a coverage cursor) that must commit in the same transaction as every
 * event submitted before it, so a cursor can never claim an event that is not stored. A marker of a
 * relay also waits for that relay's copies still undecided when it was made, and is carried to
 * later batches until they are decided.
 */
import type { Queryable } from '../../db/client.js';

export interface Marker {
  work: (tx: Queryable) => Promise<void>;
  /** Ids the marker's relay had sent that were still pending when it was made. */
  awaits: string[];
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * After a batch is decided: the markers that still wait for undecided copies (carried to a later
 * batch). `decided(id)` says whether a copy no longer holds a marker back.
 */
export function carriedMarkers(markers: readonly Marker[], decided: (id: string) => boolean): Set<Marker> {
  const carried = new Set<Marker>();
  for (const m of markers) {
    m.awaits = m.awaits.filter((id) => !decided(id));
    if (m.awaits.length > 0) carried.add(m);
  }
  return carried;
}

/** The work of a batch's transaction: `extra` first, then each committing marker; none if empty. */
export function markerTransaction(
  committing: readonly Marker[],
  extra: ((tx: Queryable) => Promise<void>) | undefined,
): ((tx: Queryable) => Promise<void>) | undefined {
  if (committing.length === 0 && !extra) return undefined;
  return async (tx: Queryable) => {
    if (extra) await extra(tx);
    for (const m of committing) await m.work(tx);
  };
}
