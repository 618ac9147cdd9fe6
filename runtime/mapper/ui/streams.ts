/**
 * Server-sent events of the live page (GET /ui/events): every tick each open stream gets what is
 * new since its cursor, in the shape of GET /ui/data. One timer for all streams, running only while
 * one is open; at most `max` streams at once; every message's id is the cursor, so a reconnecting
 * EventSource (Last-Event-ID) resumes where it was.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CrimeError } from '../../errors.js';
import type { LiveCursor } from './browser/live-data.js';
import type { LiveView } from './live-view.js';

export interface LiveStreamsOptions {
  view: LiveView;
  /** streams open at once (default 8) */
  max?: number;
  /** ms between messages (default 500) */
  tickMs?: number;
}

interface Stream {
  res: ServerResponse;
  cursor: LiveCursor;
}

export class LiveStreams {
  private readonly streams = new Set<Stream>();
  private timer: NodeJS.Timeout | undefined;
  private readonly max: number;
  private readonly tickMs: number;

  constructor(private readonly o: LiveStreamsOptions) {
    this.max = o.max ?? 8;
    this.tickMs = o.tickMs ?? 500;
  }

  get open(): number {
    return this.streams.size;
  }

  /** Starts a stream on `res` from `cursor`; 503 OVERLOADED when `max` are open. */
  start(req: IncomingMessage, res: ServerResponse, cursor: LiveCursor): void {
    if (this.streams.size >= this.max) throw new CrimeError('OVERLOADED', `${this.max} live streams are open already`, { retryAfterSec: 5 });
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    const stream: Stream = { res, cursor };
    this.streams.add(stream);
    const end = (): void => {
      this.streams.delete(stream);
      if (this.streams.size === 0) this.stopTimer();
    };
    req.once('close', end);
    res.once('close', end);
    this.send(stream);
    this.timer ??= setInterval(() => this.tick(), this.tickMs).unref();
  }

  /** Ends every stream (the mapper is closing). */
  closeAll(): void {
    for (const s of this.streams) s.res.end();
    this.streams.clear();
    this.stopTimer();
  }

  private tick(): void {
    for (const s of this.streams) this.send(s);
  }

  private send(s: Stream): void {
    // A client that does not read gets no more until its socket drains: memory stays bounded.
    if (s.res.writableNeedDrain) return;
    const data = this.o.view.data(s.cursor);
    s.cursor = data.next;
    s.res.write(`id: ${data.next.points}.${data.next.samples}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
