/**
 * Fallback and hand-back as a pure decision, one scope at a time: fallback relays take a scope over
 * when every primary has been unhealthy for `fallbackAfterMs`, and hand it back once a primary has
 * been live for `handBackAfterMs`. The daemon keeps the state and carries out the action.
 */
export interface ScopeFallbackState {
  /** Since when no primary serves the scope (ms), null while one does. */
  unhealthySince: number | null;
  /** Since when a primary serves it again while fallbacks still have it (ms). */
  primaryLiveSince: number | null;
  /** Fallback relays serve the scope. */
  active: boolean;
}

export const initialFallbackState = (): ScopeFallbackState => ({ unhealthySince: null, primaryLiveSince: null, active: false });

export interface FallbackTimings {
  fallbackAfterMs: number;
  handBackAfterMs: number;
}

export type FallbackAction = 'fallback' | 'hand_back' | null;

/**
 * The next state of one scope and what to do. `primaryLive`: a primary serves the scope (here or in
 * another daemon); `haveFallbacks`: this daemon owns a fallback relay to move it to.
 */
export function decideFallback(
  state: ScopeFallbackState,
  primaryLive: boolean,
  haveFallbacks: boolean,
  nowMs: number,
  timings: FallbackTimings,
): { state: ScopeFallbackState; action: FallbackAction } {
  if (!primaryLive) {
    const unhealthySince = state.unhealthySince ?? nowMs;
    const next = { ...state, unhealthySince, primaryLiveSince: null };
    if (!state.active && haveFallbacks && nowMs - unhealthySince >= timings.fallbackAfterMs) {
      return { state: { ...next, active: true }, action: 'fallback' };
    }
    return { state: next, action: null };
  }
  const healthy = { ...state, unhealthySince: null };
  if (!state.active) return { state: healthy, action: null };
  const primaryLiveSince = state.primaryLiveSince ?? nowMs;
  if (nowMs - primaryLiveSince >= timings.handBackAfterMs) {
    return { state: { ...healthy, primaryLiveSince, active: false }, action: 'hand_back' };
  }
  return { state: { ...healthy, primaryLiveSince }, action: null };
}

/** A scope moved to fallback relays or handed back, as /health/ingest lists it. */
export interface SwitchRecord {
  at: string;
  scope: string;
  action: 'fallback' | 'hand_back';
  relays: string[];
  from: number | null;
}

/** The last switches, newest last, at most `max`. */
export class SwitchLog {
  readonly records: SwitchRecord[] = [];

  constructor(private readonly max = 100) {}

  add(record: SwitchRecord): void {
    this.records.push(record);
    if (this.records.length > this.max) this.records.shift();
  }
}
