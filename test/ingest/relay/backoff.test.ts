import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BACKOFF,
  backoffOptions,
  circuitAllows,
  circuitOnFailure,
  circuitOnSuccess,
  circuitOptions,
  initialBackoff,
  initialCircuit,
  nextBackoff,
  type BackoffOptions,
  type BackoffState,
  type CircuitState,
} from '../../../src/ingest/relay/backoff.js';

/** Delays of n consecutive failures with a fixed random value. */
function delays(n: number, options: BackoffOptions, random: () => number): number[] {
  let state: BackoffState = initialBackoff();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const next = nextBackoff(state, options, random);
    state = next.state;
    out.push(next.delayMs);
  }
  return out;
}

describe('backoff', () => {
  it('defaults to 1 s .. 5 min with full jitter', () => {
    expect(DEFAULT_BACKOFF).toMatchObject({ minMs: 1_000, maxMs: 300_000, jitter: 'full' });
  });

  it('full jitter: the ceiling doubles per failure and caps at maxMs', () => {
    const top = delays(12, DEFAULT_BACKOFF, () => 0.999_999_999);
    expect(top).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000, 300_000, 300_000]);
    // random 0 gives the floor every time
    expect(delays(12, DEFAULT_BACKOFF, () => 0)).toEqual(Array(12).fill(1_000));
  });

  it('full jitter stays within [min, ceiling] for any random value', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    let state = initialBackoff();
    for (let i = 0; i < 1_000; i++) {
      const next = nextBackoff(state, DEFAULT_BACKOFF, random);
      const ceiling = Math.min(300_000, 1_000 * 2 ** next.state.attempt);
      expect(next.delayMs).toBeGreaterThanOrEqual(1_000);
      expect(next.delayMs).toBeLessThanOrEqual(ceiling);
      state = next.state;
    }
  });

  it('decorrelated jitter: grows from the previous delay (×3 at most), within bounds', () => {
    const options = backoffOptions({ jitter: 'decorrelated' });
    expect(delays(8, options, () => 0.999_999_999)).toEqual([3_000, 9_000, 27_000, 81_000, 243_000, 300_000, 300_000, 300_000]);
    expect(delays(5, options, () => 0)).toEqual([1_000, 1_000, 1_000, 1_000, 1_000]);
    const mid = delays(50, options, () => 0.5);
    for (const d of mid) {
      expect(d).toBeGreaterThanOrEqual(1_000);
      expect(d).toBeLessThanOrEqual(300_000);
    }
  });

  it('no jitter is plain exponential', () => {
    expect(delays(4, backoffOptions({ jitter: 'none', minMs: 100, maxMs: 500 }), () => 0)).toEqual([200, 400, 500, 500]);
  });

  it('a reset starts again from the floor', () => {
    const first = nextBackoff(nextBackoff(initialBackoff(), DEFAULT_BACKOFF, () => 1).state, DEFAULT_BACKOFF, () => 1);
    expect(first.delayMs).toBe(4_000);
    expect(nextBackoff(initialBackoff(), DEFAULT_BACKOFF, () => 1).delayMs).toBe(2_000);
  });

  it('a random source outside [0, 1) is clamped', () => {
    expect(nextBackoff(initialBackoff(), DEFAULT_BACKOFF, () => 7).delayMs).toBe(2_000);
    expect(nextBackoff(initialBackoff(), DEFAULT_BACKOFF, () => -1).delayMs).toBe(1_000);
  });

  it('rejects nonsense options', () => {
    expect(() => backoffOptions({ minMs: 0 })).toThrow(RangeError);
    expect(() => backoffOptions({ minMs: 10, maxMs: 5 })).toThrow(RangeError);
    expect(() => backoffOptions({ factor: 0.5 })).toThrow(RangeError);
  });
});

describe('circuit breaker', () => {
  const options = circuitOptions({ failureThreshold: 3, coolDownMs: 1_000, coolDownFactor: 2, maxCoolDownMs: 3_000 });

  function fail(state: CircuitState, times: number, now: number): CircuitState {
    for (let i = 0; i < times; i++) state = circuitOnFailure(state, options, now);
    return state;
  }

  it('stays closed below the threshold and opens at it', () => {
    let s = fail(initialCircuit(), 2, 0);
    expect(s).toMatchObject({ status: 'closed', consecutiveFailures: 2 });
    expect(circuitAllows(s, 0).allowed).toBe(true);
    s = circuitOnFailure(s, options, 100);
    expect(s).toMatchObject({ status: 'open', consecutiveFailures: 3, trips: 1, openUntil: 1_100 });
  });

  it('refuses attempts while open, then allows one half-open trial after the cool-down', () => {
    const open = fail(initialCircuit(), 3, 0);
    expect(circuitAllows(open, 999)).toEqual({ allowed: false, state: open });
    const trial = circuitAllows(open, 1_000);
    expect(trial.allowed).toBe(true);
    expect(trial.state).toMatchObject({ status: 'half_open', openUntil: null });
  });

  it('half-open -> closed on success', () => {
    const half = circuitAllows(fail(initialCircuit(), 3, 0), 5_000).state;
    expect(circuitOnSuccess(half)).toEqual(initialCircuit());
  });

  it('half-open -> open again on failure, with a longer cool-down up to the maximum', () => {
    let s = fail(initialCircuit(), 3, 0); // open until 1000
    s = circuitAllows(s, 1_000).state;
    s = circuitOnFailure(s, options, 1_000);
    expect(s).toMatchObject({ status: 'open', trips: 2, openUntil: 3_000 }); // 2 s cool-down
    s = circuitOnFailure(circuitAllows(s, 3_000).state, options, 3_000);
    expect(s).toMatchObject({ status: 'open', trips: 3, openUntil: 6_000 }); // capped at 3 s
  });

  it('failures while already open do not extend the cool-down', () => {
    const open = fail(initialCircuit(), 3, 0);
    const again = circuitOnFailure(open, options, 500);
    expect(again.openUntil).toBe(open.openUntil);
    expect(again.consecutiveFailures).toBe(4);
  });

  it('a success while closed resets the failure count', () => {
    expect(circuitOnSuccess(fail(initialCircuit(), 2, 0))).toEqual(initialCircuit());
  });

  it('rejects nonsense options', () => {
    expect(() => circuitOptions({ failureThreshold: 0 })).toThrow(RangeError);
  });
});
