/**
 * Sightings: the relays each event was seen on, first seen first, until written (nostr_event_relays).
 * A sighting is written with the event's own batch (a seen-on row needs its event stored), or with
 * the next batch for an event decided before. A relay whose copy was a forgery is unlisted.
 */
export class Sightings {
  private readonly byId = new Map<string, string[]>();

  get size(): number {
    return this.byId.size;
  }

  add(id: string, relay: string): void {
    const relays = this.byId.get(id);
    if (relays === undefined) this.byId.set(id, [relay]);
    else if (!relays.includes(relay)) relays.push(relay);
  }

  remove(id: string, relay: string): void {
    const relays = this.byId.get(id);
    const at = relays?.indexOf(relay) ?? -1;
    if (at >= 0) relays!.splice(at, 1);
    if (relays?.length === 0) this.byId.delete(id);
  }

  has(id: string, relay: string): boolean {
    return this.byId.get(id)?.includes(relay) ?? false;
  }

  /** Ids `relay` was seen sending that match `pick`. */
  idsOf(relay: string, pick: (id: string) => boolean): string[] {
    const out: string[] = [];
    for (const [id, relays] of this.byId) if (relays.includes(relay) && pick(id)) out.push(id);
    return out;
  }

  /** Removes and returns the sightings that `ready` says can be written now. */
  take(ready: (id: string) => boolean): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const [id, relays] of this.byId) {
      if (!ready(id)) continue;
      out.set(id, relays);
      this.byId.delete(id);
    }
    return out;
  }
}
