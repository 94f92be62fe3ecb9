/**
 * Reconnect pacing for relays, as plain data and pure functions over an injected clock and random
 * source, so every transition is unit-testable without timers.
 *
 * - Backoff: exponential with jitter (full or decorrelated, AWS style) between `minMs` and `maxMs`.
 *   Jitter spreads the reconnects of many daemons (or many subscriptions) after a relay restarts.
 * - Circuit breaker: closed -> open after `failureThreshold` consecutive failures -> half-open after
 *   `coolDownMs` (one trial attempt) -> closed on success, open again (longer) on failure.
 */

export type JitterMode = 'full' | 'decorrelated' | 'none';

export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  /** Growth per failure (full / none jitter); default 2. */
  factor: number;
  jitter: JitterMode;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  minMs: 1_000,
  maxMs: 5 * 60_000,
  factor: 2,
  jitter: 'full',
};

export interface BackoffState {
  /** Failures since the last reset. */
  attempt: number;
  /** The previous delay (decorrelated jitter grows from it); null after a reset. */
  lastDelayMs: number | null;
}

export const initialBackoff = (): BackoffState => ({ attempt: 0, lastDelayMs: null });

export function backoffOptions(partial?: Partial<BackoffOptions>): BackoffOptions {
  const o = { ...DEFAULT_BACKOFF, ...partial };
  if (!(o.minMs > 0) || !(o.maxMs >= o.minMs) || !(o.factor >= 1)) {
    throw new RangeError(`invalid backoff options: ${JSON.stringify(o)}`);
  }
  return o;
}

/**
 * The delay before the next attempt after one more failure, and the state to keep.
 * Always within [minMs, maxMs]. `random` returns [0, 1) like Math.random.
 */
export function nextBackoff(
  state: BackoffState,
  options: BackoffOptions,
  random: () => number = Math.random,
): { delayMs: number; state: BackoffState } {
  const attempt = state.attempt + 1;
  const { minMs, maxMs } = options;
  let delay: number;
  if (options.jitter === 'decorrelated') {
    // sleep = min(cap, random_between(base, prev * 3))
    const prev = state.lastDelayMs ?? minMs;
    delay = between(minMs, Math.max(minMs, prev * 3), random);
  } else {
    // The ceiling doubles per failure: 1st failure -> [min, 2*min], 2nd -> [min, 4*min], ...
    const ceiling = Math.min(maxMs, minMs * Math.pow(options.factor, attempt));
    delay = options.jitter === 'full' ? between(minMs, ceiling, random) : ceiling;
  }
  delay = clamp(Math.round(delay), minMs, maxMs);
  return { delayMs: delay, state: { attempt, lastDelayMs: delay } };
}

function between(lo: number, hi: number, random: () => number): number {
  const r = clamp(random(), 0, 1);
  return lo + r * (hi - lo);
}

function clamp(n: number, lo: number, hi: number): number {
  return n < lo ? lo : n > hi ? hi : n;
}

// ── Circuit breaker ─────────────────────────────────────────────────────────────────────────

export type CircuitStatus = 'closed' | 'open' | 'half_open';

export interface CircuitOptions {
  /** Consecutive failures that open the circuit; default 8 (about 4 min of backoff at defaults). */
  failureThreshold: number;
  /** How long an opened circuit stays open before one trial attempt; default 10 min. */
  coolDownMs: number;
  /** Each re-open after a failed trial multiplies the cool-down by this, up to maxCoolDownMs. */
  coolDownFactor: number;
  maxCoolDownMs: number;
}

export const DEFAULT_CIRCUIT: CircuitOptions = {
  failureThreshold: 8,
  coolDownMs: 10 * 60_000,
  coolDownFactor: 2,
  maxCoolDownMs: 60 * 60_000,
};

export interface CircuitState {
  status: CircuitStatus;
  consecutiveFailures: number;
  /** Times the circuit opened since it was last closed by a success (grows the cool-down). */
  trips: number;
  /** When an open circuit allows its trial attempt (ms, injected clock); null unless open. */
  openUntil: number | null;
}

export const initialCircuit = (): CircuitState => ({
  status: 'closed',
  consecutiveFailures: 0,
  trips: 0,
  openUntil: null,
});

export function circuitOptions(partial?: Partial<CircuitOptions>): CircuitOptions {
  const o = { ...DEFAULT_CIRCUIT, ...partial };
  if (!(o.failureThreshold >= 1) || !(o.coolDownMs >= 0) || !(o.coolDownFactor >= 1)) {
    throw new RangeError(`invalid circuit options: ${JSON.stringify(o)}`);
  }
  if (o.maxCoolDownMs < o.coolDownMs) o.maxCoolDownMs = o.coolDownMs;
  return o;
}

/** Records a failed attempt (or a connection that dropped before it proved stable). */
export function circuitOnFailure(state: CircuitState, options: CircuitOptions, now: number): CircuitState {
  const consecutiveFailures = state.consecutiveFailures + 1;
  // A failed half-open trial re-opens at once; a closed circuit opens at the threshold.
  if (state.status === 'half_open' || consecutiveFailures >= options.failureThreshold) {
    if (state.status === 'open') return { ...state, consecutiveFailures };
    const coolDown = Math.min(
      options.maxCoolDownMs,
      options.coolDownMs * Math.pow(options.coolDownFactor, state.trips),
    );
    return { status: 'open', consecutiveFailures, trips: state.trips + 1, openUntil: now + coolDown };
  }
  return { ...state, consecutiveFailures };
}

/** Records a success: the circuit closes and every count resets. */
export function circuitOnSuccess(_state: CircuitState): CircuitState {
  return initialCircuit();
}

/**
 * Whether an attempt may start now. An open circuit whose cool-down has passed moves to half-open
 * and allows exactly the one trial (the caller keeps the returned state).
 */
export function circuitAllows(state: CircuitState, now: number): { allowed: boolean; state: CircuitState } {
  if (state.status === 'closed' || state.status === 'half_open') return { allowed: true, state };
  if (state.openUntil !== null && now >= state.openUntil) {
    return { allowed: true, state: { ...state, status: 'half_open', openUntil: null } };
  }
  return { allowed: false, state };
}
