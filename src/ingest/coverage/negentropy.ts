/**
 * NIP-77 negentropy reconciliation, as the initiating client: which ids does a relay hold for a
 * filter that are not stored here. nostr-tools' Negentropy (protocol v1, range-based set
 * reconciliation) computes the messages; this module runs them over a RelayConnection session and
 * says how it ended, so backfill can fetch only the missing ids, or fall back to paging and
 * remember that the relay does not support NIP-77.
 *
 * The relay proves support with its first decodable NEG-MSG. Before that, a NEG-ERR (any reason,
 * `blocked: too many records` included), a NOTICE (how relays without NIP-77 answer an unknown
 * message), silence or an undecodable answer mean "unsupported"; after it, failures (a `closed:`
 * time-out, a disconnect) only end this reconciliation. A NOTICE from a relay that reconciled
 * with us in an earlier session is such a failure too: it may be about anything.
 */
import { nip77 } from 'nostr-tools';
import type { Filter } from 'nostr-tools/filter';
import type { RelayConnection } from '../relay/connection.js';

export interface LocalItem {
  id: string;
  createdAt: number;
}

export type ReconcileOutcome =
  | { kind: 'reconciled'; need: string[]; have: number; rounds: number }
  /** The relay does not (or will not) do NIP-77 for us: worth remembering. */
  | { kind: 'unsupported'; reason: string }
  /** This reconciliation failed; says nothing about the relay's support. */
  | { kind: 'failed'; reason: string };

export interface ReconcileOptions {
  /** Session id (NEG-OPEN's subscription id). */
  id: string;
  /** Wait for each relay answer. */
  timeoutMs: number;
  /** Wait for the first answer (to NEG-OPEN), when shorter: a probe of a relay of unknown support. */
  firstAnswerTimeoutMs?: number;
  /** Called once, at the relay's first decodable NEG-MSG: it supports NIP-77. */
  onSupported?: () => void;
  /** More missing ids than this ends the session (memory bound): the caller pages instead. */
  maxNeed: number;
  /**
   * Largest negentropy message we send, in bytes (hex doubles it on the wire). 50 kB keeps frames
   * under the 128 KiB WebSocket payload limit common among NIP-77 relays.
   */
  frameSizeLimit?: number;
  /** Ends the session (NEG-CLOSE) with a 'failed' outcome. */
  signal?: AbortSignal;
  /**
   * The relay has reconciled with us before: a NOTICE while NEG-OPEN waits is then more likely
   * about something else (NOTICE names no subscription) and ends only this session ('failed').
   */
  provenBefore?: boolean;
}

const DEFAULT_FRAME_SIZE_LIMIT = 50_000;

/** Reconciles `items` (our stored events for `filter`) with the relay's set. Never rejects. */
export async function reconcileWithRelay(
  connection: RelayConnection,
  filter: Filter,
  items: readonly LocalItem[],
  options: ReconcileOptions,
): Promise<ReconcileOutcome> {
  // A REQ waits in the connection's queue for the socket; a session is opened on a live one only.
  if (!(await whenConnected(connection, options.timeoutMs))) return { kind: 'failed', reason: 'error: not connected' };
  const storage = new nip77.NegentropyStorageVector();
  for (const item of items) storage.insert(item.createdAt, item.id);
  storage.seal();
  const negentropy = new nip77.Negentropy(storage, options.frameSizeLimit ?? DEFAULT_FRAME_SIZE_LIMIT);
  const { id } = options;

  return new Promise<ReconcileOutcome>((resolve) => {
    // A Set: under a frame limit the client may report one missing id in two rounds (seen with
    // nostr-tools against cut id lists); each is fetched and counted once.
    const needed = new Set<string>();
    let have = 0;
    let rounds = 0;
    let proven = false;
    let done = false;
    let timer: NodeJS.Timeout | undefined;

    const finish = (outcome: ReconcileOutcome, close: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stopNotices();
      if (close) connection.closeNegentropy(id);
      resolve(outcome);
    };
    const verdict = (reason: string): ReconcileOutcome => (proven ? { kind: 'failed', reason } : { kind: 'unsupported', reason });
    const arm = () => {
      clearTimeout(timer);
      const ms = proven ? options.timeoutMs : Math.min(options.timeoutMs, options.firstAnswerTimeoutMs ?? options.timeoutMs);
      timer = setTimeout(() => finish(verdict(`no answer within ${ms} ms`), true), ms);
    };
    // NOTICE carries no subscription id: one arriving while NEG-OPEN waits is taken as its answer,
    // a refusal unless the relay has reconciled with us before.
    const stopNoticeListener = connection.on('notice', (message) => {
      const reason = `notice: ${message.slice(0, 200)}`;
      if (!proven) finish(options.provenBefore ? { kind: 'failed', reason } : { kind: 'unsupported', reason }, true);
    });
    const onAbort = () => finish({ kind: 'failed', reason: 'aborted' }, true);
    options.signal?.addEventListener('abort', onAbort);
    const stopNotices = () => {
      stopNoticeListener();
      options.signal?.removeEventListener('abort', onAbort);
    };

    const opened = connection.openNegentropy(id, filter, negentropy.initiate(), {
      onMessage: (payload) => {
        if (done) return;
        // Throws on a message it cannot decode; the connection counts it and calls onError.
        const next = negentropy.reconcile(payload, () => have++, (missing) => needed.add(missing));
        if (!proven) options.onSupported?.();
        proven = true;
        rounds++;
        if (needed.size > options.maxNeed) return finish({ kind: 'failed', reason: `more than ${options.maxNeed} missing ids` }, true);
        if (next === null) return finish({ kind: 'reconciled', need: [...needed], have, rounds }, true);
        if (!connection.sendNegentropy(id, next)) return finish({ kind: 'failed', reason: 'error: disconnected' }, true);
        arm();
      },
      onError: (reason, cause) => finish(cause === 'disconnected' ? { kind: 'failed', reason } : verdict(reason), false),
    });
    if (!opened) return finish({ kind: 'failed', reason: 'error: not connected' }, false);
    if (options.signal?.aborted) return onAbort();
    arm();
  });
}

/** Resolves true once the connection is connected, false if it is not within `timeoutMs`. */
function whenConnected(connection: RelayConnection, timeoutMs: number): Promise<boolean> {
  if (connection.state().status === 'connected') return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    const done = (connected: boolean) => {
      clearTimeout(timer);
      stop();
      resolve(connected);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    const stop = connection.on('status', (state) => {
      if (state.status === 'connected') done(true);
      else if (state.status === 'stopped') done(false);
    });
  });
}

/** What a relay's NIP-77 support was found to be, as kept in `relays.learned.nip77`. */
export interface Nip77Knowledge {
  supported: boolean;
  /** Unix seconds of the reconciliation that found it. */
  checkedAt: number;
  /** The relay's refusal, when unsupported. */
  error: string | null;
}

/** The stored knowledge, or null when absent or not of that shape. */
export function nip77Knowledge(learned: Record<string, unknown> | null | undefined): Nip77Knowledge | null {
  const value = learned?.nip77 as Partial<Nip77Knowledge> | undefined;
  if (!value || typeof value.supported !== 'boolean' || typeof value.checkedAt !== 'number') return null;
  return { supported: value.supported, checkedAt: value.checkedAt, error: typeof value.error === 'string' ? value.error : null };
}
