/**
 * The one clock of the ingest stages: milliseconds since the epoch, injected (`now` option) so a
 * test can move time. Nostr timestamps are seconds; `unixSeconds` converts at the point of use.
 */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

export const unixSeconds = (clock: Clock): number => Math.floor(clock() / 1000);
