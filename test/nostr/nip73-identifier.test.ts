import { describe, expect, it } from 'vitest';
import { canonicalIdentifier, canonicalIsbn, canonicalUrl } from '../../src/nostr/normalize/nip73-identifier.js';

describe('canonicalIdentifier: URLs', () => {
  it.each([
    ['https://clawstr.com/c/ai', 'https://clawstr.com/c/ai'],
    ['HTTPS://CLAWSTR.COM/c/ai', 'https://clawstr.com/c/ai'],
    ['https://Clawstr.com/c/AI', 'https://clawstr.com/c/AI'], // path is case-sensitive: kept
    ['https://clawstr.com/c/ai#comments', 'https://clawstr.com/c/ai'], // no fragment
    ['https://clawstr.com/c/ai?x=1#top', 'https://clawstr.com/c/ai?x=1'], // query kept
    ['https://clawstr.com:443/c/ai', 'https://clawstr.com/c/ai'], // default port dropped
    ['http://example.com:80/a', 'http://example.com/a'],
    ['wss://relay.example.com:443', 'wss://relay.example.com'],
    ['ws://relay.example.com:80/', 'ws://relay.example.com/'],
    ['https://example.com:8443/a', 'https://example.com:8443/a'], // other ports kept
    ['http://example.com:443/a', 'http://example.com:443/a'], // 443 is not http's default
    ['https://example.com:/a', 'https://example.com/a'], // empty port
    ['https://User:Pw@Example.COM/a', 'https://User:Pw@example.com/a'], // userinfo untouched
    ['https://[2001:DB8::1]:443/x', 'https://[2001:db8::1]/x'],
    ['https://example.com', 'https://example.com'], // no '/' added
    ['  https://example.com/a  ', 'https://example.com/a'], // trimmed
    ['https://example.com/a%20b', 'https://example.com/a%20b'], // no re-encoding
  ])('%s -> %s', (raw, canonical) => {
    expect(canonicalIdentifier(raw)).toBe(canonical);
  });
  it('canonicalUrl returns null for what is not scheme://', () => {
    expect(canonicalUrl('example.com/a')).toBeNull();
    expect(canonicalUrl('mailto:a@b')).toBeNull();
  });
});

describe('canonicalIdentifier: other NIP-73 types', () => {
  it.each([
    ['#Bitcoin', '#bitcoin'],
    ['#NOSTR', '#nostr'],
    ['geo:U4PRUYDQQVJ', 'geo:u4pruydqqvj'],
    ['GEO:u4pr', 'geo:u4pr'],
    ['doi:10.1000/XYZ123', 'doi:10.1000/xyz123'],
    ['iso3166:us-ca', 'iso3166:US-CA'],
    ['ISO3166:fr', 'iso3166:FR'],
    ['isbn:978-0-7653-8203-0', 'isbn:9780765382030'],
    ['isbn:9780765382030', 'isbn:9780765382030'],
    ['isbn:0-8044-2957-x', 'isbn:080442957X'], // ISBN-10 check digit X kept (NIP-73: "without hyphens")
    ['isbn:978 0 7653 8203 0', 'isbn:9780765382030'],
    ['podcast:guid:C90E609A-df1e-596a-bd5e-57bcc8aad6cc', 'podcast:guid:C90E609A-df1e-596a-bd5e-57bcc8aad6cc'],
    ['isan:0000-0000-401A-0000-7', 'isan:0000-0000-401A-0000-7'],
    ['bitcoin:address:1HQ3Go3ggs8pFnXuHVHRytPCq5fGG8Hbhx', 'bitcoin:address:1HQ3Go3ggs8pFnXuHVHRytPCq5fGG8Hbhx'],
    ['  podcast:item:guid:abc  ', 'podcast:item:guid:abc'], // other types: trim only
    ['plain text', 'plain text'],
  ])('%s -> %s', (raw, canonical) => {
    expect(canonicalIdentifier(raw)).toBe(canonical);
  });
  it('empty or blank: null', () => {
    expect(canonicalIdentifier('')).toBeNull();
    expect(canonicalIdentifier('   ')).toBeNull();
  });
  it('ISBN: an X anywhere but last is dropped', () => {
    expect(canonicalIsbn('12X4-5')).toBe('1245');
    expect(canonicalIsbn('x')).toBe('X');
  });
});
