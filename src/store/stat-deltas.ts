/**
 * What one write batch changes in event_stats, as signed deltas per event id. The write path counts
 * instead of recounting: every contribution (a live reply, a reactor's current vote, a graded zap)
 * enters exactly once, when its event is inserted or its vote row is recomputed, and leaves exactly
 * once, when it is deleted or replaced, so the sums equal the recount of derived.ts's recomputeStats
 * whatever the arrival order. `stats rebuild` recounts from scratch and reports any drift.
 */

export interface StatDelta {
  replies: number;
  up: number;
  down: number;
  zapCount: number;
  zapMsat: bigint;
}

/** The event_stats row shape of one delta, as JSON for json_to_recordset (msat as a string). */
export interface StatDeltaRecord {
  event_id: string;
  replies: number;
  up: number;
  down: number;
  zap_count: number;
  zap_msat: string;
}

export class StatDeltas {
  private readonly byId = new Map<string, StatDelta>();

  private entry(eventId: string): StatDelta {
    let d = this.byId.get(eventId);
    if (!d) {
      d = { replies: 0, up: 0, down: 0, zapCount: 0, zapMsat: 0n };
      this.byId.set(eventId, d);
    }
    return d;
  }

  reply(parentId: string, sign: 1 | -1): void {
    this.entry(parentId).replies += sign;
  }

  /** A (target, reactor) vote row appearing (+1) or disappearing (-1); only ±1 votes count. */
  vote(target: string, vote: number, sign: 1 | -1): void {
    if (vote === 1) this.entry(target).up += sign;
    else if (vote === -1) this.entry(target).down += sign;
  }

  /** A zap row appearing or disappearing; only validity >= 2 counts (see recomputeStats). */
  zap(target: string, validity: number, amountMsat: bigint | null, sign: 1 | -1): void {
    if (validity < 2) return;
    const d = this.entry(target);
    d.zapCount += sign;
    d.zapMsat += BigInt(sign) * (amountMsat ?? 0n);
  }

  /** Non-zero deltas only: a reply added and deleted in one batch leaves nothing to write. */
  records(): StatDeltaRecord[] {
    const out: StatDeltaRecord[] = [];
    for (const [eventId, d] of this.byId) {
      if (d.replies === 0 && d.up === 0 && d.down === 0 && d.zapCount === 0 && d.zapMsat === 0n) continue;
      out.push({ event_id: eventId, replies: d.replies, up: d.up, down: d.down, zap_count: d.zapCount, zap_msat: d.zapMsat.toString() });
    }
    return out;
  }
}
