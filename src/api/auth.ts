/**
 * Bearer-token authentication: `Authorization: Bearer nc_…`. The token is hashed (SHA-256) and looked
 * up by hash; expired and revoked tokens are refused. Every failure is logged (reason, client address,
 * path; never the token) and counted per client address: past AUTH_FAILURE_LIMIT failures within
 * AUTH_FAILURE_WINDOW_SECONDS, the address's failing requests get 429 until its oldest failure leaves
 * the window (a valid token always passes). The address follows TRUST_PROXY (see clientAddress).
 * `last_used_at` is written at most once a minute per token (remembered here, and guarded in SQL so
 * several processes do not multiply the writes).
 *
 * Use `requireToken(deps)` as route middleware, then `callerOf(c)` for the authenticated caller.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { Caller } from '../control/scope.js';
import { TOKEN_PATTERN, findTokenByValue, touchToken } from '../control/tokens.js';
import type { AppDependencies } from './app.js';
import { summarizeError } from './error-summary.js';
import { errorBody } from './errors.js';

export type { Caller };

declare module 'hono' {
  interface ContextVariableMap {
    /** Set by requireToken: the user behind the bearer token. */
    caller: Caller;
  }
}

/** How often a token's last_used_at may be written. */
export const TOUCH_INTERVAL_SECONDS = 60;
/** Addresses remembered by the failure limiter at most (the oldest are forgotten first). */
const MAX_TRACKED_ADDRESSES = 10_000;

/** Failed attempts per address in a sliding window. */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private recent(address: string): number[] {
    const cutoff = this.now() - this.windowMs;
    const times = (this.failures.get(address) ?? []).filter((t) => t > cutoff);
    if (times.length === 0) this.failures.delete(address);
    else this.failures.set(address, times);
    return times;
  }

  /** Seconds until the address may try again, or 0 when it may now. */
  retryAfter(address: string): number {
    const times = this.recent(address);
    if (times.length < this.limit) return 0;
    const oldest = times[times.length - this.limit] ?? this.now();
    return Math.max(1, Math.ceil((oldest + this.windowMs - this.now()) / 1000));
  }

  record(address: string): void {
    const times = this.recent(address);
    times.push(this.now());
    this.failures.delete(address); // re-insert: Map order is then least recently failed first
    this.failures.set(address, times.slice(-this.limit));
    if (this.failures.size > MAX_TRACKED_ADDRESSES) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
  }
}

interface AuthState {
  limiter: FailureLimiter;
  /** Token id -> when this process last wrote its last_used_at. */
  touched: Map<string, number>;
}

// One state per app (per dependencies object), shared by every route that requires a token.
const states = new WeakMap<AppDependencies, AuthState>();

function stateFor(deps: AppDependencies): AuthState {
  let state = states.get(deps);
  if (!state) {
    state = {
      limiter: new FailureLimiter(deps.config.authFailureLimit, deps.config.authFailureWindowSeconds * 1000),
      touched: new Map(),
    };
    states.set(deps, state);
  }
  return state;
}

/**
 * The client's address. With `trustedHops` = 0 the socket peer. Behind N trusted proxies, each of
 * which appends the address it received the request from to X-Forwarded-For, the last N entries
 * were written by those proxies, so the client is the N-th entry from the right (the rightmost one
 * no proxy of ours could have been given by the client); entries further left are the client's own
 * words. With fewer entries than N, the leftmost one (the header was written by our proxies only).
 */
export function clientAddress(c: Context, trustedHops: number): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return addressBehindProxies(env?.incoming?.socket?.remoteAddress ?? 'unknown', c.req.header('x-forwarded-for'), trustedHops);
}

/** The rule above, for a peer address and an X-Forwarded-For value (also used by the relay endpoint). */
export function addressBehindProxies(peer: string, forwardedFor: string | undefined, trustedHops: number): string {
  if (trustedHops <= 0) return peer;
  const hops = (forwardedFor ?? '')
    .split(',')
    .map((hop) => hop.trim())
    .filter(Boolean);
  if (hops.length === 0) return peer;
  return hops[Math.max(0, hops.length - trustedHops)]!;
}

type TokenCheck = { ok: true; caller: Caller; row: { id: string; lastUsedAt: Date | null } } | { ok: false; reason: string; message: string; tokenId?: string };

async function checkToken(deps: AppDependencies, header: string | undefined): Promise<TokenCheck> {
  const match = header ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
  if (!match?.[1]) return { ok: false, reason: 'missing', message: 'a bearer token is required (Authorization: Bearer nc_…)' };
  const token = match[1];
  if (!TOKEN_PATTERN.test(token)) return { ok: false, reason: 'malformed', message: 'invalid token' };
  const row = await findTokenByValue(deps.database.db, token);
  if (!row) return { ok: false, reason: 'unknown', message: 'invalid token' };
  if (row.revokedAt) return { ok: false, reason: 'revoked', message: 'token revoked', tokenId: row.id };
  if (row.expiresAt && row.expiresAt.getTime() <= Date.now()) return { ok: false, reason: 'expired', message: 'token expired', tokenId: row.id };
  return { ok: true, caller: { userId: row.userId, admin: row.isAdmin, tokenId: row.id }, row };
}

export function requireToken(deps: AppDependencies): MiddlewareHandler {
  const state = stateFor(deps);
  return async (c, next) => {
    const address = clientAddress(c, deps.config.trustProxy);
    const context = { address, method: c.req.method, path: c.req.path };
    // The token is checked first: a valid one is never refused, whatever others sent from its address
    // (tokens carry 256 random bits; the limiter bounds noise and load, it does not guard a guessable secret).
    const check = await checkToken(deps, c.req.header('authorization'));
    if (!check.ok) {
      const retryAfter = state.limiter.retryAfter(address);
      if (retryAfter > 0) {
        deps.log.warn({ ...context, reason: 'rate_limited' }, 'auth refused');
        c.header('Retry-After', String(retryAfter));
        return c.json(errorBody('rate_limited', 'too many failed authentications from this address; retry later'), 429);
      }
      state.limiter.record(address);
      deps.log.warn({ ...context, reason: check.reason, ...(check.tokenId ? { tokenId: check.tokenId } : {}) }, 'auth failed');
      c.header('WWW-Authenticate', 'Bearer');
      return c.json(errorBody('unauthorized', check.message), 401);
    }
    const { row } = check;
    const now = Date.now();
    const last = Math.max(state.touched.get(row.id) ?? 0, row.lastUsedAt?.getTime() ?? 0);
    if (now - last >= TOUCH_INTERVAL_SECONDS * 1000) {
      state.touched.set(row.id, now);
      await touchToken(deps.database.db, row.id, TOUCH_INTERVAL_SECONDS).catch((error: unknown) => {
        deps.log.warn({ error: summarizeError(error), tokenId: row.id }, 'could not record token use');
      });
      if (state.touched.size > MAX_TRACKED_ADDRESSES) state.touched.clear();
    }
    c.set('caller', check.caller);
    await next();
    return undefined;
  };
}

/** The authenticated caller; only valid behind requireToken. */
export function callerOf(c: Context): Caller {
  const caller = c.get('caller');
  if (!caller) throw new Error('callerOf used on a route without requireToken');
  return caller;
}
