/**
 * `tokens create | list | revoke`: API tokens from the command line. The token is printed once, on
 * stdout; only its SHA-256 is stored. Admin tokens (agents, minting tokens for users, billing) can
 * only be minted here.
 */
import { createToken, listTokens, revokeToken, type TokenInfo } from '../control/tokens.js';
import { ControlError } from '../control/errors.js';
import { openRuntime } from '../runtime.js';
import { UsageError, type Command } from './command.js';

/** An ISO date-time, or a duration from now: 30d, 12h, 45m, 2w. */
export function parseExpiry(value: string, now: number = Date.now()): Date {
  const duration = /^(\d{1,6})([mhdw])$/.exec(value);
  if (duration) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[duration[2] as 'm' | 'h' | 'd' | 'w'];
    return new Date(now + Number(duration[1]) * unit);
  }
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new UsageError(`--expires: expected an ISO date (2026-01-31 or 2026-01-31T12:00:00Z) or a duration (30d, 12h, 45m, 2w), got "${value}"`);
  }
  if (date.getTime() <= now) throw new UsageError(`--expires: ${value} is in the past`);
  return date;
}

function row(t: TokenInfo): string {
  const state = t.revokedAt ? 'revoked' : t.expiresAt && t.expiresAt.getTime() <= Date.now() ? 'expired' : 'active';
  return [t.id, t.tokenPrefix, t.userId, t.name ?? '-', t.isAdmin ? 'admin' : '-', state, t.expiresAt?.toISOString() ?? 'never', t.lastUsedAt?.toISOString() ?? 'never'].join('\t');
}

export const tokensCreateCommand: Command = {
  name: 'tokens create',
  summary: 'mint an API token for an external user id (printed once)',
  help: `Usage: nostr-cache tokens create --user <external-id> [--name <name>] [--expires <ISO date | 30d>] [--admin] [--json]

Creates the user if it does not exist yet, mints a token (nc_ followed by 43
base64url characters) and prints it on stdout. It is shown only this once: the
database keeps its SHA-256 alone.

Options:
  --user      the external auth id (required)
  --name      a label shown in lists
  --expires   an ISO date-time, or a duration from now: 45m, 12h, 30d, 2w
  --admin     an admin token: may write agents, mint tokens over the API and
              change billing fields (only this command mints admin tokens)
  --json      print {token, id, ...} as JSON`,
  options: { user: { type: 'string' }, name: { type: 'string' }, expires: { type: 'string' }, admin: { type: 'boolean' }, json: { type: 'boolean' } },
  async run({ config, values }) {
    const user = values.user as string | undefined;
    if (!user) throw new UsageError('--user <external-id> is required');
    const expiresAt = typeof values.expires === 'string' ? parseExpiry(values.expires) : null;
    const runtime = await openRuntime(config);
    try {
      const { token, info } = await createToken(runtime.database.db, {
        userId: user,
        name: (values.name as string | undefined) ?? null,
        expiresAt,
        admin: values.admin === true,
      });
      if (values.json) process.stdout.write(`${JSON.stringify({ token, ...info }, null, 2)}\n`);
      else {
        process.stdout.write(`${token}\n`);
        process.stderr.write(`token ${info.id} for ${info.userId}${info.isAdmin ? ' (admin)' : ''}: store it now, it is not shown again\n`);
      }
      return 0;
    } finally {
      await runtime.close();
    }
  },
};

export const tokensListCommand: Command = {
  name: 'tokens list',
  summary: 'list API tokens (never their value)',
  help: `Usage: nostr-cache tokens list [--user <external-id>] [--json]

Lists tokens, newest first: id, prefix, user, name, admin, state (active,
expired, revoked), expiry and last use (recorded at most once a minute).`,
  options: { user: { type: 'string' }, json: { type: 'boolean' } },
  async run({ config, values }) {
    const runtime = await openRuntime(config);
    try {
      const tokens: TokenInfo[] = [];
      let cursor: string | undefined;
      do {
        const page = await listTokens(runtime.database.db, { userId: values.user as string | undefined }, { cursor, limit: 200 });
        tokens.push(...page.items);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      if (values.json) process.stdout.write(`${JSON.stringify(tokens, null, 2)}\n`);
      else {
        process.stdout.write(`${['id', 'prefix', 'user', 'name', 'admin', 'state', 'expires', 'last used'].join('\t')}\n`);
        for (const t of tokens) process.stdout.write(`${row(t)}\n`);
      }
      return 0;
    } finally {
      await runtime.close();
    }
  },
};

export const tokensRevokeCommand: Command = {
  name: 'tokens revoke',
  summary: 'revoke an API token by id or prefix',
  help: `Usage: nostr-cache tokens revoke <id | prefix>

Revokes one token, named by its id or by its prefix as listed (nc_ and at least
6 characters). A prefix matching several tokens is refused. Revoked tokens are
refused at once by every process.`,
  options: {},
  async run({ config, positionals }) {
    const ref = positionals[0];
    if (!ref || positionals.length > 1) throw new UsageError('expected exactly one token id or prefix');
    const runtime = await openRuntime(config);
    try {
      const info = await revokeToken(runtime.database.db, ref);
      process.stdout.write(`revoked ${info.id} (${info.tokenPrefix}…, ${info.userId})\n`);
      return 0;
    } catch (error) {
      if (error instanceof ControlError) throw new UsageError(error.message);
      throw error;
    } finally {
      await runtime.close();
    }
  },
};
