export * from './nostr.js';
export * from './ingest.js';
export * from './control.js';
