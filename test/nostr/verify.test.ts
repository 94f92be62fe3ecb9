import { existsSync } from 'node:fs';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NostrEvent } from '../../src/nostr/types.js';
import { loadCorpus } from '../fixtures/corpus.js';
import {
  computeEventId,
  initVerifier,
  isValidEvent,
  isVerifierReady,
  serializeForId,
  verifierBackend,
  verifyEventSync,
  type VerifyBackendName,
} from '../../src/nostr/verify.js';
import { loadNativeSchnorr } from '../../src/nostr/native-secp256k1.js';

const native = loadNativeSchnorr();
// Where the system has libsecp256k1, `npm install` builds the native backend, so both are tested.
const backends: VerifyBackendName[] = native.ok ? ['wasm', 'native'] : ['wasm'];
const libraryInstalled = ['/usr/include/secp256k1_schnorrsig.h', '/usr/local/include/secp256k1_schnorrsig.h'].some((p) =>
  existsSync(p),
);

const corpus: NostrEvent[] = loadCorpus();

/** Replaces the character at `i` with a different hex digit. */
function flipHex(s: string, i: number): string {
  const c = s[i] === '0' ? '1' : '0';
  return s.slice(0, i) + c + s.slice(i + 1);
}

/** Changes one character (appends one to an empty string). */
function changeChar(s: string, i: number): string {
  if (s.length === 0) return 'x';
  const j = i % s.length;
  const c = s[j] === 'x' ? 'y' : 'x';
  return s.slice(0, j) + c + s.slice(j + 1);
}

describe('before initVerifier', () => {
  it('throws a clear error instead of guessing', () => {
    expect(isVerifierReady()).toBe(false);
    expect(() => verifyEventSync(corpus[0]!)).toThrow(/initVerifier/);
    expect(() => isValidEvent(corpus[0]!)).toThrow(/initVerifier/);
  });

  it('computes ids without the verifier', () => {
    for (const e of corpus) expect(computeEventId(e)).toBe(e.id);
  });
});

describe('backend selection', () => {
  it('has the native backend wherever libsecp256k1 is installed, and falls back to WASM otherwise', async () => {
    const hint = native.ok ? 'built without the library headers?' : `${native.reason}; run npm install to build it`;
    expect(native.ok, hint).toBe(libraryInstalled);
    await initVerifier('auto');
    expect(verifierBackend()).toBe(native.ok ? 'native' : 'wasm');
    if (native.ok) {
      await expect(initVerifier('native')).resolves.toBeUndefined();
    } else {
      await expect(initVerifier('native')).rejects.toThrow(/VERIFY_BACKEND=native: native addon/);
    }
    await initVerifier('wasm');
    expect(verifierBackend()).toBe('wasm');
  });
});

describe.each(backends)('verifyEventSync with the %s backend', (backend) => {
  beforeAll(async () => {
    await initVerifier(backend);
    await initVerifier(backend); // idempotent
  });

  it('accepts every real event', () => {
    expect(isVerifierReady()).toBe(true);
    expect(verifierBackend()).toBe(backend);
    expect(corpus.length).toBe(2219);
    for (const e of corpus) {
      expect(verifyEventSync(e)).toBe('ok');
      expect(isValidEvent(e)).toBe(true);
    }
  });

  it('returns bad_sig for one flipped hex character in sig', () => {
    corpus.forEach((e, n) => {
      const bad = { ...e, sig: flipHex(e.sig, (n * 7) % 128) };
      expect(verifyEventSync(bad)).toBe('bad_sig');
      expect(isValidEvent(bad)).toBe(false);
    });
  });

  it('returns bad_id for one flipped hex character in id', () => {
    corpus.forEach((e, n) => {
      expect(verifyEventSync({ ...e, id: flipHex(e.id, (n * 5) % 64) })).toBe('bad_id');
    });
  });

  it('returns bad_id for one changed character in content', () => {
    corpus.forEach((e, n) => {
      expect(verifyEventSync({ ...e, content: changeChar(e.content, n) })).toBe('bad_id');
    });
  });

  it('returns bad_id for one changed character in a tag value', () => {
    let checked = 0;
    for (const [n, e] of corpus.entries()) {
      const t = e.tags.findIndex((tag) => tag.length > 1);
      if (t < 0) continue;
      const tags = e.tags.map((tag) => [...tag]);
      tags[t]![1] = changeChar(tags[t]![1]!, n);
      expect(verifyEventSync({ ...e, tags })).toBe('bad_id');
      checked++;
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('rejects an uppercase id even though its bytes match', () => {
    const e = corpus[0]!;
    expect(verifyEventSync({ ...e, id: e.id.toUpperCase() })).toBe('bad_id');
  });

  it('returns bad_sig, not an exception, for a pubkey that is not on the curve', () => {
    // x >= p is no field element, so no point; the id is made to match so the signature is reached.
    const e = { ...corpus[0]!, pubkey: 'f'.repeat(64) };
    const withId = { ...e, id: computeEventId(e) };
    expect(verifyEventSync(withId)).toBe('bad_sig');
  });

  it('returns bad_sig when the signature belongs to another event by the same key', () => {
    const a = corpus.find((e, i) => corpus.findIndex((o) => o.pubkey === e.pubkey) !== i)!;
    const b = corpus.find((e) => e.pubkey === a.pubkey)!;
    expect(a!.id).not.toBe(b!.id);
    expect(verifyEventSync({ ...a!, sig: b!.sig })).toBe('bad_sig');
  });

  it('verifies a freshly signed event with control characters, quotes and non-BMP text', () => {
    const sk = generateSecretKey();
    const signed = finalizeEvent(
      {
        kind: 1,
        created_at: 1_700_000_000,
        tags: [['t', 'a"b\\c'], ['x', '\u2028\u0000']],
        content: 'line\nbreak\ttab "q" \\ \u0001 \u007f é 🦀',
      },
      sk,
    );
    const e: NostrEvent = { ...signed, tags: signed.tags };
    expect(verifyEventSync(e)).toBe('ok');
    expect(verifyEventSync({ ...e, content: e.content + ' ' })).toBe('bad_id');
  });

  it('serializes exactly as NIP-01 describes', () => {
    const s = serializeForId({
      pubkey: 'ab',
      created_at: 1,
      kind: 7,
      tags: [['e', 'x']],
      content: 'a\nb"c\\d\u0001\u2028é',
    });
    expect(s).toBe('[0,"ab",1,7,[["e","x"]],"a\\nb\\"c\\\\d\\u0001\u2028é"]');
  });
});
