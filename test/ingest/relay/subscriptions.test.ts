/**
 * SubscriptionTable through its RelayConnection: REQ order, the ceiling (queued, learned), CLOSED, rate-limit retry, handler errors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { RelayConnection } from '../../../src/ingest/relay/connection.js';
import type { NostrEvent } from '../../../src/nostr/types.js';
import { connection, ev, recorder, relay, runCleanups, sendEvents } from '../../helpers/scripted-relay.js';
import { waitFor } from '../../helpers/wait-for.js';

afterEach(runCleanups);

describe('RelayConnection: subscriptions', () => {
  it('subscribe -> EVENTs in order with frame sizes -> EOSE', async () => {
    const events = [ev(1), ev(2), ev(3)];
    const r = await relay({ onReq: (ws, req) => sendEvents(ws, req.id, events) });
    const c = connection({ url: r.url });
    const rec = recorder(() => [{ kinds: [1], limit: 10 }]);
    c.subscribe('feed', rec.spec);
    c.start();
    await waitFor(() => rec.eoses === 1, 'EOSE');
    expect(rec.events).toEqual(events);
    expect(rec.bytes).toEqual(events.map((e) => Buffer.byteLength(JSON.stringify(['EVENT', 'feed', e]))));
    expect(r.reqs).toEqual([{ conn: 0, id: 'feed', filters: [{ kinds: [1], limit: 10 }] }]);
    const s = c.state();
    expect(s).toMatchObject({ status: 'connected', stable: true, subscriptions: 1, activeSubscriptions: 1, eventsReceived: 3, framesReceived: 4 });
    expect(s.lastEoseAt).not.toBeNull();
    expect(c.subscriptionStatus('feed')).toBe('live');
  });

  it('a subscription made after connecting is sent at once; unsubscribe sends CLOSE; late events are counted apart', async () => {
    let socket: WebSocket | null = null;
    const r = await relay({ onConnection: (ws) => (socket = ws) });
    const c = connection({ url: r.url });
    c.start();
    await waitFor(() => c.state().status === 'connected', 'connected');
    const rec = recorder();
    c.subscribe('late', rec.spec);
    await waitFor(() => rec.eoses === 1, 'EOSE');
    expect(c.unsubscribe('late')).toBe(true);
    expect(c.unsubscribe('late')).toBe(false);
    await waitFor(() => r.closes.length === 1, 'CLOSE');
    socket!.send(JSON.stringify(['EVENT', 'late', ev(1)]));
    socket!.send(JSON.stringify(['EVENT', 'never', ev(2)]));
    await waitFor(() => c.state().framesReceived === 3, 'frames');
    expect(c.state().rejects).toMatchObject({ late_event: 1, unknown_subscription: 1 });
    expect(rec.events).toEqual([]);
  });

  it('queues REQs above maxSubscriptions and sends them as slots free', async () => {
    const r = await relay();
    const c = connection({ url: r.url, maxSubscriptions: 2 });
    const recs = ['a', 'b', 'c'].map((id) => {
      const rec = recorder();
      c.subscribe(id, rec.spec);
      return rec;
    });
    c.start();
    await waitFor(() => recs[0]!.eoses === 1 && recs[1]!.eoses === 1, 'two EOSEs');
    expect(r.reqs.map((q) => q.id)).toEqual(['a', 'b']);
    expect(c.subscriptionStatus('c')).toBe('queued');
    expect(c.state()).toMatchObject({ activeSubscriptions: 2, queuedSubscriptions: 1 });
    c.unsubscribe('a');
    await waitFor(() => recs[2]!.eoses === 1, 'third EOSE');
    expect(r.reqs.map((q) => q.id)).toEqual(['a', 'b', 'c']);
    expect(r.closes.map((q) => q.id)).toEqual(['a']);
    // raising the ceiling is immediate
    c.setMaxSubscriptions(5);
    c.subscribe('d', recorder().spec);
    await waitFor(() => r.reqs.length === 4, 'REQ d');
  });

  it('learns the REQ ceiling from a CLOSED that names it', async () => {
    const r = await relay({
      onReq: (ws, req) => {
        const open = new Set(r.reqs.filter((q) => q.conn === req.conn).map((q) => q.id));
        for (const cl of r.closes) open.delete(cl.id);
        if (open.size > 2) ws.send(JSON.stringify(['CLOSED', req.id, 'error: too many concurrent REQs']));
        else ws.send(JSON.stringify(['EOSE', req.id]));
      },
    });
    const c = connection({ url: r.url });
    const recs = ['a', 'b', 'c'].map((id) => {
      const rec = recorder();
      c.subscribe(id, rec.spec);
      return rec;
    });
    c.start();
    await waitFor(() => c.state().maxSubscriptions === 2, 'learned ceiling');
    expect(c.subscriptionStatus('c')).toBe('queued');
    expect(recs[2]!.closed).toEqual([]);
    c.unsubscribe('a');
    await waitFor(() => recs[2]!.eoses === 1, 'c served after a slot freed');
  });

  it('a CLOSED with another prefix goes to onClosed and is not re-sent until resubscribe()', async () => {
    let refuse = true;
    const r = await relay({
      onReq: (ws, req) =>
        ws.send(JSON.stringify(req.id === 'x' && refuse ? ['CLOSED', 'x', 'restricted: members only'] : ['EOSE', req.id])),
    });
    const c = connection({ url: r.url });
    const x = recorder();
    const y = recorder();
    c.subscribe('x', x.spec);
    c.start();
    await waitFor(() => x.closed.length === 1, 'onClosed');
    expect(x.closed).toEqual([{ reason: 'restricted: members only', prefix: 'restricted' }]);
    expect(c.subscriptionStatus('x')).toBe('closed');
    c.subscribe('y', y.spec); // a round trip after the CLOSED
    await waitFor(() => y.eoses === 1, 'y EOSE');
    expect(r.reqsFor('x')).toHaveLength(1);
    refuse = false;
    c.resubscribe('x');
    await waitFor(() => x.eoses === 1, 'x EOSE after resubscribe');
    expect(r.reqsFor('x')).toHaveLength(2);
  });

  it('rate-limited CLOSED: re-sent after growing delays, not reported', async () => {
    let refusals = 0;
    const r = await relay({
      onReq: (ws, req) => {
        if (refusals < 3) {
          refusals++;
          ws.send(JSON.stringify(['CLOSED', req.id, 'rate-limited: slow down']));
        } else sendEvents(ws, req.id, [ev(1)]);
      },
    });
    const c = connection({ url: r.url, rateLimitBackoff: { minMs: 10, maxMs: 1_000 }, random: () => 0.999 });
    const waits: number[] = [];
    let lastUntil: number | null = null;
    c.on('status', (s) => {
      if (s.rateLimitedUntil !== null && s.rateLimitedUntil !== lastUntil) waits.push(s.rateLimitedUntil - Date.now());
      lastUntil = s.rateLimitedUntil;
    });
    const rec = recorder();
    c.subscribe('s', rec.spec);
    c.start();
    await waitFor(() => rec.eoses === 1, 'EOSE after rate limits');
    expect(r.reqsFor('s')).toHaveLength(4);
    expect(rec.closed).toEqual([]);
    expect(rec.events).toEqual([ev(1)]);
    // every refusal published a retry time; with random ~1 the waits are 20, 40, 80 ms
    expect(waits).toHaveLength(3);
    expect(waits[1]!).toBeGreaterThan(waits[0]! * 1.5);
    expect(waits[2]!).toBeGreaterThan(waits[1]! * 1.5);
    expect(c.state().rateLimitedUntil).toBeNull();
  });

  it('onEvent and onEose errors are counted and reported, never thrown into the socket', async () => {
    const r = await relay({ onReq: (ws, req) => sendEvents(ws, req.id, [ev(1), ev(2), ev(3)]) });
    const c = connection({ url: r.url });
    const errors: Error[] = [];
    c.on('error', (e) => errors.push(e));
    c.on('status', () => {
      throw new Error('observer bug');
    });
    const got: string[] = [];
    let eose = false;
    c.subscribe('s', {
      filters: () => [{}],
      onEvent: (e) => {
        got.push((e as NostrEvent).id);
        if (got.length === 1) throw new Error('sync boom');
        if (got.length === 2) return Promise.reject(new Error('async boom'));
      },
      onEose: () => {
        eose = true;
        throw new Error('eose boom');
      },
      onClosed: () => {},
    });
    c.start();
    await waitFor(() => eose && c.state().handlerErrors === 3, 'errors counted');
    expect(got).toHaveLength(3);
    expect(errors.map((e) => e.message).sort()).toEqual(['async boom', 'eose boom', 'sync boom']);
    expect(c.state().status).toBe('connected');
  });
});
