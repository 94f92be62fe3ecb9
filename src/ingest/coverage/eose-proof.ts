/**
 * What a live REQ's EOSE proves, judged against the REQ actually sent (answer-cap.ts): a complete
 * answer proves the whole [since, now - margin]; one the relay may have capped proves only the
 * seconds after its oldest event, and the rest is a hole for repair to prove. Pure.
 */
import type { Range } from '../../ranges.js';
import { judgeAnswer, proofOfAnswer, type CapVerdict, type RelayCaps, type SentReq } from './answer-cap.js';

/** What a live REQ's stored-events answer held before its EOSE. */
export interface EoseAnswer {
  count: number;
  /** Oldest created_at among them, or null if none was readable. */
  oldest: number | null;
}

export interface EoseJudgement {
  verdict: CapVerdict;
  /** Proven now (committed with the answer's events), or null. */
  proven: Range | null;
  /** Unproven by this answer: only paging or NIP-77 may prove it. */
  hole: Range | null;
  /**
   * Where this subscription's proof starts: live coverage may grow from here (live-extension.ts),
   * also when nothing of it is old enough to commit yet. Null when the answer proved nothing.
   */
  provenSince: number | null;
}

/**
 * `range` is [the REQ's since, now - margin]. A capped answer whose oldest event is newer than the
 * margin still cuts there: the seconds up to that event are the hole (not just those up to the
 * margin), and its proof starts after it.
 */
export function judgeEose(range: Range, answer: EoseAnswer, sent: SentReq, caps: RelayCaps): EoseJudgement {
  const verdict = judgeAnswer(sent, answer.count, caps);
  const reach = { since: range.since, until: Math.max(range.until, answer.oldest ?? range.until) };
  const proof = proofOfAnswer(reach, answer.oldest, verdict);
  if (!verdict.capped) return { verdict, proven: range, hole: null, provenSince: range.since };
  const provenSince = proof.hole && answer.oldest !== null ? proof.hole.until + 1 : null;
  const proven = proof.proven && proof.proven.since <= range.until ? { since: proof.proven.since, until: range.until } : null;
  return { verdict, proven, hole: proof.hole, provenSince };
}

/**
 * Counts an event of a REQ's stored-events answer and keeps the oldest created_at seen. One older
 * than the REQ's since (which a relay should not send) must not make a capped page look complete.
 */
export function noteAnswer(answer: EoseAnswer, createdAt: unknown, since: number): void {
  answer.count++;
  if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt) || createdAt < since) return;
  if (answer.oldest === null || createdAt < answer.oldest) answer.oldest = createdAt;
}
