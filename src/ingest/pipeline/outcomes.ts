/**
 * What happened to each event the pipeline was given, counted by outcome and, for rejections, by
 * reason. Reports (import), health and /metrics read these counters.
 */
export type RejectReason = string;

export interface OutcomeCounts {
  /** Events handed to the pipeline. */
  received: number;
  /** Newly stored. */
  accepted: number;
  /** Already seen (this run or stored before). */
  duplicate: number;
  /** Older versions of a replaceable/addressable event than the stored one. */
  superseded: number;
  /** Ephemeral kinds (20000-29999): never stored. */
  ephemeral: number;
  /** NIP-40 expiration already passed at ingest: dropped. */
  expired: number;
  /** Rejections by reason (shape, id, signature, storage). */
  invalid: Record<RejectReason, number>;
  /** Stored events whose NIP-09 deletion took effect (informational: they are also counted above). */
  deletedOnArrival: number;
}

export function emptyOutcomes(): OutcomeCounts {
  return {
    received: 0,
    accepted: 0,
    duplicate: 0,
    superseded: 0,
    ephemeral: 0,
    expired: 0,
    invalid: {},
    deletedOnArrival: 0,
  };
}

export function invalidTotal(counts: OutcomeCounts): number {
  return Object.values(counts.invalid).reduce((a, b) => a + b, 0);
}
