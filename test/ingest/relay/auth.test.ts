/**
 * NIP-42 through RelayConnection against scripted relays: sign the challenge, resubscribe; park and report when auth cannot happen.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { finalizeEvent, generateSecretKey, verifyEvent } from 'nostr-tools/pure';
import { makeAuthEvent } from 'nostr-tools/nip42';
import { RelayConnection } from '../../../src/ingest/relay/connection.js';
import type { NostrEvent } from '../../../src/nostr/types.js';
import { connection, ev, recorder, relay, runCleanups, sendEvents } from '../../helpers/scripted-relay.js';
import { waitFor } from '../../helpers/wait-for.js';

afterEach(runCleanups);

describe('RelayConnection: NIP-42', () => {
  function authRelay(options: { accept?: boolean; challengeAfterClosed?: boolean } = {}) {
    const challenges: string[] = [];
    const authed = new Set<number>();
    const authEvents: NostrEvent[] = [];
    return {
      challenges,
      authEvents,
      start: () =>
        relay({
          onConnection: (ws, conn) => {
            const challenge = `challenge-${conn}`;
            challenges.push(challenge);
            if (!options.challengeAfterClosed) ws.send(JSON.stringify(['AUTH', challenge]));
          },
          onReq: (ws, req) => {
            if (!authed.has(req.conn)) {
              ws.send(JSON.stringify(['CLOSED', req.id, 'auth-required: we only serve members']));
              if (options.challengeAfterClosed) ws.send(JSON.stringify(['AUTH', challenges[req.conn]]));
            } else sendEvents(ws, req.id, [ev(1)]);
          },
          onOther: (ws, msg, conn) => {
            if (msg[0] !== 'AUTH') return;
            const event = msg[1] as NostrEvent;
            authEvents.push(event);
            const tag = (name: string) => event.tags.find((t) => t[0] === name)?.[1];
            const ok =
              (options.accept ?? true) &&
              verifyEvent(event) &&
              event.kind === 22242 &&
              tag('challenge') === challenges[conn] &&
              tag('relay')?.startsWith('ws://127.0.0.1:') === true;
            if (ok) authed.add(conn);
            ws.send(JSON.stringify(['OK', event.id, ok, ok ? '' : 'restricted: not a member']));
          },
        }),
    };
  }

  it('auth-required -> signs the challenge (makeAuthEvent + finalizeEvent) -> resubscribes', async () => {
    const server = authRelay();
    const r = await server.start();
    const sk = generateSecretKey();
    const signed: string[] = [];
    const c = connection({
      url: r.url,
      authSigner: (challenge, relayUrl) => {
        signed.push(challenge);
        return finalizeEvent(makeAuthEvent(relayUrl, challenge), sk) as NostrEvent;
      },
    });
    const rec = recorder();
    c.subscribe('members', rec.spec);
    c.start();
    await waitFor(() => rec.eoses === 1, 'EOSE after auth');
    expect(signed).toEqual(['challenge-0']);
    expect(rec.events).toEqual([ev(1)]);
    expect(rec.closed).toEqual([]);
    expect(r.reqsFor('members')).toHaveLength(2);
    expect(c.state()).toMatchObject({ authRequired: true, authenticated: true });

    // a new connection gets a new challenge and authenticates again
    r.dropAll();
    await waitFor(() => rec.eoses === 2, 'EOSE after reconnect');
    expect(signed).toEqual(['challenge-0', 'challenge-1']);
  });

  it('a challenge that arrives after the auth-required CLOSED still triggers auth', async () => {
    const r = await authRelay({ challengeAfterClosed: true }).start();
    const sk = generateSecretKey();
    const c = connection({ url: r.url, authSigner: (ch, url) => finalizeEvent(makeAuthEvent(url, ch), sk) as NostrEvent });
    const rec = recorder();
    c.subscribe('members', rec.spec);
    c.start();
    await waitFor(() => rec.eoses === 1, 'EOSE after late challenge');
    expect(c.state().authenticated).toBe(true);
    expect(rec.closed).toEqual([]);
  });

  it('without a key the subscription is parked and reported', async () => {
    const r = await authRelay().start();
    const c = connection({ url: r.url, authSigner: () => null });
    const rec = recorder();
    c.subscribe('members', rec.spec);
    c.start();
    await waitFor(() => rec.closed.length === 1, 'reported');
    expect(rec.closed[0]).toEqual({ reason: 'auth-required: we only serve members', prefix: 'auth-required' });
    expect(c.subscriptionStatus('members')).toBe('auth_parked');
    expect(c.state()).toMatchObject({ authRequired: true, authenticated: false });

    const noSigner = connection({ url: r.url });
    const rec2 = recorder();
    noSigner.subscribe('members', rec2.spec);
    noSigner.start();
    await waitFor(() => rec2.closed.length === 1, 'reported without signer');
    expect(noSigner.subscriptionStatus('members')).toBe('auth_parked');
  });

  it('an AUTH the relay refuses reports the parked subscription', async () => {
    const r = await authRelay({ accept: false }).start();
    const sk = generateSecretKey();
    const c = connection({ url: r.url, authSigner: (ch, url) => finalizeEvent(makeAuthEvent(url, ch), sk) as NostrEvent });
    const rec = recorder();
    c.subscribe('members', rec.spec);
    c.start();
    await waitFor(() => rec.closed.length === 1, 'reported');
    expect(c.state()).toMatchObject({ authenticated: false, authRequired: true });
    expect(c.state().lastError).toMatch(/auth rejected: restricted/);
  });
});
