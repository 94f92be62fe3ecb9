/**
 * NIP-73 external content ids in one canonical spelling, so that the same subclaw, web page or book
 * written two ways by two clients lands on one key.
 */

/** Ports that are implied by the scheme and therefore dropped. */
const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443', ws: '80', wss: '443' };

const URL_SHAPE = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^#]*)/;

/**
 * Lowercases scheme and host, drops the fragment, an empty port and the scheme's default port.
 * Path and query are kept byte for byte: they are case-sensitive, and rewriting them (as the WHATWG
 * URL parser does with percent-encoding and a trailing '/') would split keys clients agree on.
 */
export function canonicalUrl(url: string): string | null {
  const m = URL_SHAPE.exec(url);
  if (!m) return null;
  const scheme = (m[1] as string).toLowerCase();
  let authority = m[2] as string;
  const rest = m[3] as string;

  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at + 1) : '';
  authority = authority.slice(at + 1);

  // Host is everything before the port colon; an IPv6 literal keeps its brackets.
  const hostEnd = authority.startsWith('[') ? authority.indexOf(']') + 1 : authority.indexOf(':');
  let host = authority;
  let port = '';
  if (hostEnd > 0 && hostEnd < authority.length && authority[hostEnd] === ':') {
    host = authority.slice(0, hostEnd);
    port = authority.slice(hostEnd + 1);
  }
  host = host.toLowerCase();
  const keepPort = port !== '' && DEFAULT_PORTS[scheme] !== port;
  return `${scheme}://${userinfo}${host}${keepPort ? `:${port}` : ''}${rest}`;
}

/** ISBN without hyphens or spaces; an ISBN-10 check digit X (only in last place) is kept, uppercase. */
export function canonicalIsbn(id: string): string {
  const kept = id.replace(/[^0-9Xx]/g, '');
  const digits = kept.slice(0, -1).replace(/[Xx]/g, '');
  const last = kept.slice(-1).toUpperCase();
  return digits + last;
}

/**
 * Canonical form of an `i`/`I` value, or null when it is empty. Types the rules do not name
 * (podcast guids, isan, blockchain ids, …) are only trimmed.
 */
export function canonicalIdentifier(raw: string): string | null {
  const value = raw.trim();
  if (value === '') return null;
  if (value.startsWith('#')) return value.toLowerCase();

  const colon = value.indexOf(':');
  const prefix = colon > 0 ? value.slice(0, colon).toLowerCase() : '';
  const body = value.slice(colon + 1);
  switch (prefix) {
    case 'geo':
    case 'doi':
      return value.toLowerCase();
    case 'iso3166':
      return `iso3166:${body.toUpperCase()}`;
    case 'isbn':
      return `isbn:${canonicalIsbn(body)}`;
  }
  return canonicalUrl(value) ?? value;
}
