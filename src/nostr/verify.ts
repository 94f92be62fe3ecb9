/**
 * NIP-01 id and BIP-340 signature verification on the calling thread.
 *
 * Two backends of the same library, libsecp256k1, chosen by VERIFY_BACKEND (default `auto`):
 * - `native`: the system's libsecp256k1 through this project's Node-API addon (src/nostr/native),
 *   built at `npm install` when libsecp256k1-dev is present. ~5x faster than the WASM on x86-64.
 * - `wasm`: tiny-secp256k1 (libsecp256k1 compiled to WASM), always available.
 * `auto` takes native when it loads and WASM otherwise. The id is hashed by node:crypto's native
 * sha256 in both. Measured in bench/verify.ts: the WASM verifies ~2,900 events per CPU-second on
 * this 2-core machine, nostr-wasm ~2,300, nostr-tools' pure-JS verifyEvent ~400; nostr-wasm also
 * has only a throwing `verifyEvent`, so telling a bad id from a bad signature would mean matching
 * error strings.
 */
import { createHash } from 'node:crypto';
import { loadNativeSchnorr } from './native-secp256k1.js';
import type { NostrEvent } from './types.js';

export const VERIFY_RESULTS = ['ok', 'bad_id', 'bad_sig'] as const;
export type VerifyResult = (typeof VERIFY_RESULTS)[number];

export const VERIFY_BACKEND_CHOICES = ['auto', 'native', 'wasm'] as const;
export type VerifyBackendChoice = (typeof VERIFY_BACKEND_CHOICES)[number];
export type VerifyBackendName = 'native' | 'wasm';

/** The fields the id commits to. */
export type IdFields = Pick<NostrEvent, 'pubkey' | 'created_at' | 'kind' | 'tags' | 'content'>;

interface SchnorrBackend {
  name: VerifyBackendName;
  /** May throw on malformed input (the WASM does for a pubkey off the curve). */
  verifySchnorr(hash: Uint8Array, pubkey: Uint8Array, sig: Uint8Array): boolean;
}

let backend: SchnorrBackend | null = null;
const loading = new Map<VerifyBackendChoice, Promise<SchnorrBackend>>();

async function loadBackend(choice: VerifyBackendChoice): Promise<SchnorrBackend> {
  if (choice !== 'wasm') {
    const native = loadNativeSchnorr();
    if (native.ok) return { name: 'native', verifySchnorr: (h, p, s) => native.addon.verifySchnorr(h, p, s) };
    if (choice === 'native') throw new Error(`VERIFY_BACKEND=native: ${native.reason}`);
  }
  const wasm = await import('tiny-secp256k1');
  return { name: 'wasm', verifySchnorr: (h, p, s) => wasm.verifySchnorr(h, p, s) };
}

/** NIP-01 id preimage. JSON.stringify escapes exactly what NIP-01 requires and nothing else. */
export function serializeForId(event: IdFields): string {
  return JSON.stringify([0, event.pubkey, event.created_at, event.kind, event.tags, event.content]);
}

/** Lowercase hex sha256 of the NIP-01 serialization. */
export function computeEventId(event: IdFields): string {
  return createHash('sha256').update(serializeForId(event)).digest('hex');
}

/**
 * Loads the backend for `choice` once (default `auto`); later calls with the same choice return the
 * same promise. A different choice switches this thread's backend (tests compare the two).
 */
export function initVerifier(choice: VerifyBackendChoice = 'auto'): Promise<void> {
  let pending = loading.get(choice);
  if (!pending) {
    pending = loadBackend(choice);
    loading.set(choice, pending);
    pending.catch(() => loading.delete(choice)); // let a later call try again
  }
  return pending.then((loaded) => {
    backend = loaded;
  });
}

export function isVerifierReady(): boolean {
  return backend !== null;
}

/** The backend this thread verifies with, once initVerifier has resolved. */
export function verifierBackend(): VerifyBackendName | null {
  return backend?.name ?? null;
}

/**
 * Verifies from the id preimage (see serializeForId). The worker pool uses this form so the main
 * thread sends four strings per event instead of a structured clone of the tags.
 */
export function verifySerialized(id: string, pubkey: string, sig: string, preimage: string): VerifyResult {
  if (backend === null) {
    throw new Error('signature verifier not initialised: await initVerifier() first');
  }
  const hash = createHash('sha256').update(preimage).digest();
  // String comparison also rejects an uppercase id, which Buffer.from(hex) would accept.
  if (hash.toString('hex') !== id) return 'bad_id';
  try {
    // tiny-secp256k1 throws on malformed input (pubkey not on the curve, r or s out of range). It
    // also refuses r in [n, p), which BIP-340 allows; an honest signer hits that with odds ~2^-128.
    return backend.verifySchnorr(hash, Buffer.from(pubkey, 'hex'), Buffer.from(sig, 'hex')) ? 'ok' : 'bad_sig';
  } catch {
    return 'bad_sig';
  }
}

/** Checks the id, then the signature. Requires `await initVerifier()` first (throws otherwise). */
export function verifyEventSync(event: NostrEvent): VerifyResult {
  return verifySerialized(event.id, event.pubkey, event.sig, serializeForId(event));
}

/** Boolean form, e.g. for NormalizeOptions.verifyEmbedded. Requires `await initVerifier()` first. */
export function isValidEvent(event: NostrEvent): boolean {
  return verifyEventSync(event) === 'ok';
}
