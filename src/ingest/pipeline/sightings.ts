/**
 * Sightings: the relays each event was seen on, first seen first, until written (nostr_event_relays).
 * A sighting is written with the event's own batch (a seen-on row needs its event stored), or with
 * the next batch for an event decided before. A relay whose copy was a forgery is unlisted.
 *
 * Each sighting keeps the signatures its relay's copies carried (most copies are never verified on
 * their own: the same event from five relays is verified once). When written, a relay counts only if
 * one of them is the signature that verified for the event, or its copy is known good (`PROVEN`:
 * it verified on its own, or carried the verified signature when the event was already confirmed).
 */
export const PROVEN = null;

/** The signatures a relay's copies carried, or PROVEN. */
export type Claim = string[] | typeof PROVEN;

/** Signatures kept per relay and event: a relay sending many forgeries cannot grow one without end. */
const MAX_CLAIMED = 4;

export class Sightings {
  private readonly byId = new Map<string, Map<string, Claim>>();

  get size(): number {
    return this.byId.size;
  }

  /** `relay` sent a copy of `id` signed `sig` (PROVEN: the copy is known good). */
  add(id: string, relay: string, sig: string | typeof PROVEN): void {
    let relays = this.byId.get(id);
    if (relays === undefined) this.byId.set(id, (relays = new Map()));
    const claim = relays.get(relay);
    if (sig === PROVEN || claim === undefined) relays.set(relay, sig === PROVEN ? PROVEN : [sig]);
    else if (claim !== PROVEN && claim.length < MAX_CLAIMED && !claim.includes(sig)) claim.push(sig);
  }

  remove(id: string, relay: string): void {
    const relays = this.byId.get(id);
    relays?.delete(relay);
    if (relays?.size === 0) this.byId.delete(id);
  }

  has(id: string, relay: string): boolean {
    return this.byId.get(id)?.has(relay) ?? false;
  }

  /** Ids `relay` was seen sending that match `pick`. */
  idsOf(relay: string, pick: (id: string) => boolean): string[] {
    const out: string[] = [];
    for (const [id, relays] of this.byId) if (relays.has(relay) && pick(id)) out.push(id);
    return out;
  }

  /** Removes and returns the sightings that `ready` says can be written now. */
  take(ready: (id: string) => boolean): Map<string, Map<string, Claim>> {
    const out = new Map<string, Map<string, Claim>>();
    for (const [id, relays] of this.byId) {
      if (!ready(id)) continue;
      out.set(id, relays);
      this.byId.delete(id);
    }
    return out;
  }
}

/**
 * The seen-on lists to write: of each taken event, the relays whose claim holds, by `signedAs(id,
 * sig)` (the signature that verified for the event); events left with no relay are left out.
 */
export function provenSightings(
  taken: ReadonlyMap<string, ReadonlyMap<string, Claim>>,
  signedAs: (id: string, sig: string) => boolean,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [id, relays] of taken) {
    const listed: string[] = [];
    for (const [relay, claim] of relays) if (claim === PROVEN || claim.some((sig) => signedAs(id, sig))) listed.push(relay);
    if (listed.length > 0) out.set(id, listed);
  }
  return out;
}
