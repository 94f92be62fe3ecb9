/**
 * Flow control of one socket: it is paused (ws pause/resume, i.e. TCP backpressure to the relay)
 * while too many onEvent promises are pending, or by the caller, so a slow database bounds memory
 * instead of growing it.
 */
import WebSocket from 'ws';

export interface FlowHost {
  socket(): WebSocket | null;
  /** The socket was just paused: it cannot read a pong meanwhile. */
  onPaused(): void;
  emitStatus(): void;
  handlerError(err: unknown): void;
}

export class FlowControl {
  private manual = false;
  private pressure = false;
  /** onEvent promises not yet settled. */
  inFlight = 0;

  constructor(
    private readonly host: FlowHost,
    private readonly highWaterMark: number,
    private readonly lowWaterMark: number,
  ) {}

  get paused(): boolean {
    return this.manual || this.pressure;
  }

  pause(): void {
    this.manual = true;
    this.apply();
  }

  resume(): void {
    this.manual = false;
    this.apply();
  }

  /** Counts `p` in flight (in `pending` too) until it settles; a rejection is a handler error. */
  track(p: Promise<void>, pending: Set<Promise<unknown>>): void {
    this.inFlight++;
    pending.add(p);
    if (!this.pressure && this.inFlight >= this.highWaterMark) {
      this.pressure = true;
      this.apply();
    }
    const settle = () => {
      this.inFlight--;
      pending.delete(p);
      if (this.pressure && this.inFlight <= this.lowWaterMark) {
        this.pressure = false;
        this.apply();
      }
    };
    p.then(settle, (err: unknown) => {
      settle();
      this.host.handlerError(err);
    });
  }

  /** Brings the socket in line with the wanted state (also on a fresh socket). */
  apply(): void {
    const ws = this.host.socket();
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const want = this.paused;
    if (want === ws.isPaused) return;
    if (want) {
      ws.pause();
      // A paused socket cannot read the pong; keepalive waits until reading resumes.
      this.host.onPaused();
    } else {
      ws.resume();
    }
    this.host.emitStatus();
  }
}
