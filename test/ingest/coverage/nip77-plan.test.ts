import { describe, expect, it } from 'vitest';
import { nip77Plan, type Nip77PlanInput } from '../../../src/ingest/coverage/nip77-plan.js';

const NOW = 1_750_000_000;
const DAY = 86_400;
const plan = (input: Partial<Nip77PlanInput>) => nip77Plan({ supportedNips: null, verdict: null, now: NOW, retryAfterSeconds: DAY, ...input });

describe('nip77Plan', () => {
  it('NIP-11 decides before any probe', () => {
    expect(plan({ supportedNips: [1, 11, 77] })).toEqual({ kind: 'reconcile', because: 'nip11 lists 77' });
    expect(plan({ supportedNips: ['1', '77'] })).toMatchObject({ kind: 'reconcile' });
    expect(plan({ supportedNips: [1, 11] })).toEqual({ kind: 'page', because: 'nip11 omits 77' });
    expect(plan({ supportedNips: [] })).toMatchObject({ kind: 'page' });
  });

  it('what trying found overrides the document', () => {
    // strfry advertising 77 with negentropy turned off.
    expect(plan({ supportedNips: [77], verdict: { supported: false, checkedAt: NOW - 60 } })).toEqual({ kind: 'page', because: 'refused recently' });
    expect(plan({ supportedNips: [1], verdict: { supported: true, checkedAt: NOW - 10 * DAY } })).toEqual({ kind: 'reconcile', because: 'reconciled before' });
  });

  it('probes (paging meanwhile) only a relay with no document, never tried or refused long ago', () => {
    expect(plan({})).toEqual({ kind: 'probe', because: 'no nip11 and never tried', pageMeanwhile: true });
    expect(plan({ verdict: { supported: false, checkedAt: NOW - DAY } })).toEqual({ kind: 'probe', because: 'refusal due for a re-check', pageMeanwhile: true });
    // A stale refusal of a relay whose document lists 77: the document decides again.
    expect(plan({ supportedNips: [77], verdict: { supported: false, checkedAt: NOW - 2 * DAY } })).toMatchObject({ kind: 'reconcile' });
  });
});
