import { describe, expect, it } from 'vitest';
import { decideFallback, initialFallbackState, type ScopeFallbackState } from '../../../src/ingest/fleet/fallback.js';

const timings = { fallbackAfterMs: 60_000, handBackAfterMs: 120_000 };

/** Runs the decision over (time, primary live) samples; returns the actions taken and the last state. */
function run(samples: Array<[number, boolean]>, haveFallbacks = true): { actions: Array<[number, string]>; state: ScopeFallbackState } {
  let state = initialFallbackState();
  const actions: Array<[number, string]> = [];
  for (const [at, live] of samples) {
    const step = decideFallback(state, live, haveFallbacks, at, timings);
    state = step.state;
    if (step.action) actions.push([at, step.action]);
  }
  return { actions, state };
}

describe('decideFallback', () => {
  it('falls back once the primaries have been down for fallbackAfterMs, not before', () => {
    const { actions, state } = run([
      [0, false],
      [59_999, false],
      [60_000, false],
      [70_000, false],
    ]);
    expect(actions).toEqual([[60_000, 'fallback']]);
    expect(state).toMatchObject({ active: true, unhealthySince: 0 });
  });

  it('a primary back before the delay resets the count', () => {
    const { actions } = run([
      [0, false],
      [50_000, true],
      [55_000, false],
      [100_000, false],
      [115_000, false],
    ]);
    expect(actions).toEqual([[115_000, 'fallback']]);
  });

  it('hands back after the primary stayed live for handBackAfterMs; a relapse restarts that wait', () => {
    const { actions, state } = run([
      [0, false],
      [60_000, false], // fallback
      [100_000, true],
      [150_000, false], // relapse: the live time starts over
      [160_000, true],
      [279_999, true],
      [280_000, true], // hand back
    ]);
    expect(actions).toEqual([
      [60_000, 'fallback'],
      [280_000, 'hand_back'],
    ]);
    expect(state.active).toBe(false);
  });

  it('without a fallback relay of its own nothing moves, but the outage is still timed', () => {
    const { actions, state } = run([
      [0, false],
      [90_000, false],
    ], false);
    expect(actions).toEqual([]);
    expect(state).toEqual({ unhealthySince: 0, primaryLiveSince: null, active: false });
  });
});
