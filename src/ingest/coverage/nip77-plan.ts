/**
 * Whether to use NIP-77 with a relay, decided before any NEG-OPEN. Pure.
 *
 * NIP-11 `supported_nips` decides first: a relay that lists 77 is reconciled with at once (a full
 * session timeout), one whose document leaves 77 out is paged without asking. What the relay did
 * when tried overrides its document: a refusal learned recently means paging (strfry can advertise
 * 77 with negentropy turned off, and answers NEG-OPEN with `NOTICE ERROR: bad msg: negentropy
 * disabled`), a session that worked means reconciling. Only a relay with no document and no
 * verdict (or a stale refusal) is probed, with a short timeout, and paging starts while the probe
 * waits, so a relay that never answers NEG-OPEN costs a backfill nothing.
 */

export interface Nip77Verdict {
  supported: boolean;
  /** Unix seconds of the session that found it. */
  checkedAt: number;
}

export interface Nip77PlanInput {
  /** NIP-11 `supported_nips`, or null when the relay has no (readable) document. */
  supportedNips: ReadonlyArray<number | string> | null;
  /** What trying found (relays.learned.nip77), or null. */
  verdict: Nip77Verdict | null;
  now: number;
  /** A refusal is re-tried after this long. */
  retryAfterSeconds: number;
}

export type Nip77Plan =
  | { kind: 'reconcile'; because: 'nip11 lists 77' | 'reconciled before' }
  | { kind: 'probe'; because: 'no nip11 and never tried' | 'refusal due for a re-check'; pageMeanwhile: true }
  | { kind: 'page'; because: 'nip11 omits 77' | 'refused recently' };

export function nip77Plan(input: Nip77PlanInput): Nip77Plan {
  const { verdict } = input;
  if (verdict?.supported) return { kind: 'reconcile', because: 'reconciled before' };
  if (verdict && input.now - verdict.checkedAt < input.retryAfterSeconds) return { kind: 'page', because: 'refused recently' };
  if (input.supportedNips !== null) {
    return input.supportedNips.map(Number).includes(77) ? { kind: 'reconcile', because: 'nip11 lists 77' } : { kind: 'page', because: 'nip11 omits 77' };
  }
  return { kind: 'probe', because: verdict ? 'refusal due for a re-check' : 'no nip11 and never tried', pageMeanwhile: true };
}
