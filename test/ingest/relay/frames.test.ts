/**
 * Frame dispatch and flow control: a hostile relay cannot crash or fool the connection; backpressure and pause bound what is pending.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { RELAY_REJECT_REASONS, RelayConnection, type RelayRejectReason } from '../../../src/ingest/relay/connection.js';
import type { NostrEvent } from '../../../src/nostr/types.js';
import { cleanups, connection, ev, recorder, relay, runCleanups, sendEvents, sleep } from '../../helpers/scripted-relay.js';
import { waitFor } from '../../helpers/wait-for.js';

afterEach(runCleanups);

describe('RelayConnection: hostile relay and flow control', () => {
  it('survives ≥ 10,000 malformed frames interleaved with good events; counts every one by reason', async () => {
    const maxFrameBytes = 2_048;
    const expected = Object.fromEntries(RELAY_REJECT_REASONS.map((k) => [k, 0])) as Record<RelayRejectReason, number>;
    const goodIds: string[] = [];
    let total = 0;
    const bad: Array<[RelayRejectReason, string | Buffer]> = [
      ['frame_too_large', JSON.stringify(['EVENT', 'h', { ...ev(0), content: 'x'.repeat(maxFrameBytes) }])],
      ['bad_json', '["EVENT","h",{"id":'],
      ['bad_json', '\u0000\u0001garbage'],
      ['not_array', '{"EVENT":1}'],
      ['not_array', '42'],
      ['empty_array', '[]'],
      ['bad_type', '[1,"h",{}]'],
      ['unknown_type', '["HELLO","h"]'],
      ['unknown_type', '["REQ","h",{}]'],
      ['bad_event_frame', '["EVENT","h"]'],
      ['bad_event_frame', '["EVENT",7,{}]'],
      ['bad_event_frame', '["EVENT","h","not an event"]'],
      ['bad_eose_frame', '["EOSE"]'],
      ['bad_closed_frame', '["CLOSED","h",404]'],
      ['bad_notice_frame', '["NOTICE",{}]'],
      ['bad_ok_frame', '["OK","x","yes",""]'],
      ['bad_auth_frame', '["AUTH",""]'],
      ['bad_count_frame', '["COUNT","h",{"count":"many"}]'],
      ['bad_neg_frame', '["NEG-MSG","h",123]'],
      ['binary_frame', Buffer.from('["EVENT","h",{}]')],
      ['unknown_subscription', JSON.stringify(['EVENT', 'nobody', ev(0)])],
      ['unknown_subscription', '["EOSE","nobody"]'],
    ];
    const r = await relay({
      onReq: (ws, req) => {
        let good = 0;
        for (let i = 0; i < 11_000; i++) {
          if (i % 10 === 0) {
            const e = ev(++good);
            goodIds.push(e.id);
            ws.send(JSON.stringify(['EVENT', req.id, e]));
          } else {
            const [reason, frame] = bad[i % bad.length]!;
            expected[reason]++;
            ws.send(frame, { binary: Buffer.isBuffer(frame) });
          }
          total++;
        }
        // valid frames that are not events are not rejects
        ws.send(JSON.stringify(['NOTICE', 'still here']));
        ws.send(JSON.stringify(['CLOSED', 'nobody', 'error: whatever']));
        ws.send(JSON.stringify(['EOSE', req.id]));
        total += 3;
      },
    });
    const c = connection({ url: r.url, maxFrameBytes });
    const notices: string[] = [];
    c.on('notice', (n) => notices.push(n));
    const rec = recorder(() => [{ kinds: [1] }], () => Promise.resolve());
    c.subscribe('h', rec.spec);
    c.start();
    await waitFor(() => rec.eoses === 1, 'EOSE after the flood', 20_000);
    const s = c.state();
    const malformed = Object.values(expected).reduce((a, b) => a + b, 0);
    expect(malformed).toBeGreaterThanOrEqual(9_900);
    expect(s.rejects).toEqual(expected);
    expect(Object.values(s.rejects).reduce((a, b) => a + b, 0)).toBe(malformed);
    expect(s.framesReceived).toBe(total);
    expect(rec.events.map((e) => e.id)).toEqual(goodIds);
    expect(notices).toEqual(['still here']);
    expect(s).toMatchObject({ status: 'connected', handlerErrors: 0, failures: 0 });
  });

  it('backpressure: a slow onEvent keeps pending promises bounded; order and EOSE after all kept', async () => {
    const count = 4_000;
    const r = await relay({ onReq: (ws, req) => sendEvents(ws, req.id, Array.from({ length: count }, (_, i) => ev(i + 1))) });
    const c = connection({ url: r.url, highWaterMark: 100, lowWaterMark: 20 });
    let pending = 0;
    let maxPending = 0;
    let pendingAtEose = -1;
    let sawPaused = false;
    c.on('status', (s) => (sawPaused ||= s.paused));
    const waiting: Array<() => void> = [];
    const drain = setInterval(() => {
      for (const resolve of waiting.splice(0, 25)) resolve();
    }, 2);
    cleanups.push(() => clearInterval(drain));
    const got: number[] = [];
    c.subscribe('slow', {
      filters: () => [{}],
      onEvent: (e) => {
        got.push((e as NostrEvent).created_at);
        pending++;
        maxPending = Math.max(maxPending, pending);
        return new Promise<void>((resolve) =>
          waiting.push(() => {
            pending--;
            resolve();
          }),
        );
      },
      onEose: () => void (pendingAtEose = pending),
      onClosed: () => {},
    });
    c.start();
    await waitFor(() => pendingAtEose >= 0, 'EOSE', 20_000);
    expect(got).toEqual(Array.from({ length: count }, (_, i) => 1_001 + i));
    expect(sawPaused).toBe(true);
    // High-water mark plus what ws had already read when the socket paused (one read's worth).
    expect(maxPending).toBeLessThan(100 + 600);
    expect(pendingAtEose).toBe(0);
    await waitFor(() => !c.state().paused, 'resumed');
    expect(c.state().inFlight).toBe(0);
  });

  it('manual pause() stops reading; resume() delivers what waited', async () => {
    let socket: WebSocket | null = null;
    const r = await relay({ onConnection: (ws) => (socket = ws) });
    const c = connection({ url: r.url });
    const rec = recorder();
    c.subscribe('s', rec.spec);
    c.start();
    await waitFor(() => rec.eoses === 1, 'EOSE');
    c.pause();
    expect(c.state().paused).toBe(true);
    sendEvents(socket!, 's', [ev(1), ev(2), ev(3)], false);
    await sleep(100);
    expect(rec.events).toEqual([]);
    c.resume();
    await waitFor(() => rec.events.length === 3, 'events after resume');
    expect(c.state().paused).toBe(false);
  });
});
