export * from './nostr.js';
export * from './ingest.js';
export * from './control.js';
export * from './ranking.js';
export * from './relay.js';
