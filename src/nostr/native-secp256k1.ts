/**
 * Loads the optional native BIP-340 verifier (src/nostr/native, built at `npm install` when the
 * system has libsecp256k1; see build.mjs there). Returns why it is unavailable instead of throwing,
 * so the caller can fall back to the WASM build.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface NativeSchnorr {
  verifySchnorr(hash: Uint8Array, pubkey: Uint8Array, sig: Uint8Array): boolean;
}

const ADDON = 'native/build/Release/nostr_secp256k1.node';

/** Where the addon sits: beside this file when run from src/, under src/ when run from dist/src/. */
function candidatePaths(): string[] {
  return [new URL(`./${ADDON}`, import.meta.url), new URL(`../../../src/nostr/${ADDON}`, import.meta.url)].map((u) =>
    fileURLToPath(u),
  );
}

export function loadNativeSchnorr(): { ok: true; addon: NativeSchnorr } | { ok: false; reason: string } {
  const path = candidatePaths().find((p) => existsSync(p));
  if (path === undefined) {
    return { ok: false, reason: 'native addon not built (npm install builds it when libsecp256k1-dev is installed)' };
  }
  try {
    const addon = createRequire(import.meta.url)(path) as Partial<NativeSchnorr>;
    if (typeof addon.verifySchnorr !== 'function') return { ok: false, reason: `${path} has no verifySchnorr` };
    return { ok: true, addon: addon as NativeSchnorr };
  } catch (error) {
    // e.g. libsecp256k1.so missing at run time although it was there at build time.
    return { ok: false, reason: `native addon failed to load: ${(error as Error).message}` };
  }
}
