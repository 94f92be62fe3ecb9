/** INGEST_LEASE_SECONDS: twice the ownership interval by default, and always longer than one. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.js';

describe('the relay owner lease setting', () => {
  it('defaults to twice INGEST_OWNERSHIP_INTERVAL_SECONDS', () => {
    expect(loadConfig({}).ingestLeaseSeconds).toBe(20);
    expect(loadConfig({ INGEST_OWNERSHIP_INTERVAL_SECONDS: '3' }).ingestLeaseSeconds).toBe(6);
    expect(loadConfig({ INGEST_LEASE_SECONDS: '45' }).ingestLeaseSeconds).toBe(45);
  });

  it('refuses a lease that would lapse between two renewals, naming both settings', () => {
    expect(() => loadConfig({ INGEST_OWNERSHIP_INTERVAL_SECONDS: '10', INGEST_LEASE_SECONDS: '10' })).toThrow(ConfigError);
    expect(() => loadConfig({ INGEST_OWNERSHIP_INTERVAL_SECONDS: '10', INGEST_LEASE_SECONDS: '5' })).toThrow(
      /INGEST_LEASE_SECONDS.*INGEST_OWNERSHIP_INTERVAL_SECONDS/,
    );
  });
});
