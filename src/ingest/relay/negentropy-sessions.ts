/**
 * NIP-77 sessions of one connection (NEG-OPEN … NEG-CLOSE), by id: their own namespace on the
 * relay, outside the REQ ceiling. The caller owns the negentropy state; sessions do not survive a
 * reconnect (the relay's state is gone).
 */
import type { Filter } from 'nostr-tools/filter';
import { isValidSubscriptionId, serializeNegClose, serializeNegMsg, serializeNegOpen } from '../../nostr/relay-frames.js';
import { errorMessage } from '../errors.js';
import type { RecentlyClosed } from './subscriptions.js';
import type { NegentropyEndCause, NegentropySessionSpec, RelayRejectReason } from './types.js';

export interface NegentropyHost {
  isOpen(): boolean;
  send(text: string): boolean;
  reject(reason: RelayRejectReason): void;
  handlerError(err: unknown): void;
}

export class NegentropySessions {
  private readonly sessions = new Map<string, NegentropySessionSpec>();

  constructor(
    private readonly host: NegentropyHost,
    private readonly recentlyClosed: RecentlyClosed,
  ) {}

  /** Whether any session is open (a NEG-MSG frame may then be larger than ordinary ones). */
  hasOpenSessions(): boolean {
    return this.sessions.size > 0;
  }

  /** Sends NEG-OPEN; false when not connected. */
  open(id: string, filter: Filter, initialMessage: string, spec: NegentropySessionSpec): boolean {
    if (!isValidSubscriptionId(id)) throw new RangeError(`subscription id must be 1..64 chars: ${id}`);
    if (!this.host.isOpen()) return false;
    this.recentlyClosed.delete(id);
    this.sessions.set(id, spec);
    if (this.host.send(serializeNegOpen(id, filter, initialMessage))) return true;
    this.sessions.delete(id);
    return false;
  }

  send(id: string, message: string): boolean {
    return this.sessions.has(id) && this.host.send(serializeNegMsg(id, message));
  }

  /** Ends a session (NEG-CLOSE); late frames for it are then ignored, not counted as hostile. */
  close(id: string): void {
    if (!this.sessions.delete(id)) return;
    this.recentlyClosed.add(id);
    this.host.send(serializeNegClose(id));
  }

  onFrame(id: string, type: 'NEG-MSG' | 'NEG-ERR', payload: string): void {
    const spec = this.sessions.get(id);
    if (!spec) {
      if (!this.recentlyClosed.has(id)) this.host.reject('unknown_subscription');
      return;
    }
    if (type === 'NEG-ERR') {
      // NIP-77: after NEG-ERR the session is closed on the relay's side.
      this.sessions.delete(id);
      this.recentlyClosed.add(id);
      return this.end(spec, payload, 'neg_err');
    }
    try {
      spec.onMessage(payload);
    } catch (err) {
      this.host.reject('bad_neg_payload');
      this.close(id);
      this.end(spec, `invalid: undecodable negentropy message: ${errorMessage(err)}`, 'undecodable');
    }
  }

  /** The socket is gone, and every session with it. */
  onDisconnect(): void {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const spec of sessions) this.end(spec, 'error: disconnected', 'disconnected');
  }

  private end(spec: NegentropySessionSpec, reason: string, cause: NegentropyEndCause): void {
    try {
      spec.onError(reason, cause);
    } catch (err) {
      this.host.handlerError(err);
    }
  }
}
