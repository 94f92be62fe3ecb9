export * from './nostr.js';
export * from './ingest.js';
