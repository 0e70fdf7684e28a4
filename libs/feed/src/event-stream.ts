import { FeedEvent } from '@oms/store';
import type { Response } from 'express';

/** Reads a branch's events after a seq, oldest first (shared by the streams of one instance). */
export type ReadEvents = (branch: string, after: number) => Promise<FeedEvent[]>;

export interface StreamLimits {
  /** Bytes a stream may hold unsent (its consumer reads slower than commits come) before it overflows. */
  maxBufferBytes: number;
  heartbeatMs: number;
}

/** How long an ended stream's unsent bytes may wait for a consumer that does not read, before it is cut. */
const DRAIN_GRACE_MS = 30_000;

/** Events read per round while a stream catches up. */
export const READ_PAGE = 100;

/**
 * One server-sent event stream of a branch's feed. It sends every event after `lastSent`, in seq order,
 * as it learns of them (wake), and a comment line when it has been quiet for a heartbeat. Its consumer's
 * unread bytes are bounded: with maxBufferBytes waiting, it sends more only once the consumer has taken
 * them; a consumer that takes nothing for a heartbeat interval is behind: the stream sends `event: overflow`
 * with the last seq it sent and ends (the consumer resumes from there with Last-Event-ID). A consumer that
 * never reads costs at most maxBufferBytes and one event.
 */
export class EventStream {
  private reading = false;
  private wokenWhileReading = false;
  private heartbeat?: NodeJS.Timeout;
  private ended = false;

  constructor(
    readonly branch: string,
    private lastSent: number,
    private readonly res: Response,
    private readonly read: ReadEvents,
    private readonly limits: StreamLimits,
    private readonly onEnd: (stream: EventStream) => void,
  ) {}

  get position(): number {
    return this.lastSent;
  }

  start(): void {
    this.res.status(200);
    this.res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    this.res.setHeader('Cache-Control', 'no-store');
    this.res.setHeader('X-Accel-Buffering', 'no'); // a proxy must not hold events back
    this.res.flushHeaders();
    this.res.socket?.setNoDelay(true);
    // The client reconnects after this long if the stream drops (the EventSource default is ~3 s).
    this.res.write('retry: 1000\n\n');
    this.res.on('close', () => this.close());
    this.scheduleHeartbeat();
    this.wake();
  }

  /** The branch has (or may have) new events: send them. */
  wake(): void {
    if (this.ended) return;
    if (this.reading) {
      this.wokenWhileReading = true;
      return;
    }
    this.reading = true;
    void this.catchUp().finally(() => {
      this.reading = false;
      if (this.wokenWhileReading) {
        this.wokenWhileReading = false;
        this.wake();
      }
    });
  }

  /** Ends the stream (the service is stopping): the consumer reconnects elsewhere or later. */
  end(): void {
    if (this.ended) return;
    this.res.end();
    this.close();
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      let events: FeedEvent[];
      try {
        events = await this.read(this.branch, this.lastSent);
      } catch {
        return; // the store failed: the next wake-up (or the safety poll) tries again
      }
      for (const event of events) {
        if (this.ended) return;
        if (!(await this.room())) return this.overflow();
        if (this.ended) return;
        this.res.write(`id: ${event.seq}\nevent: commit\ndata: ${JSON.stringify(event)}\n\n`);
        this.lastSent = event.seq;
      }
      if (events.length < READ_PAGE) return;
    }
  }

  /**
   * Whether the consumer has room for more: at once while less than maxBufferBytes waits unsent, else once it
   * takes what waits (drain) within a heartbeat interval. A consumer catching up reads on; one that has
   * stopped reading is behind.
   */
  private room(): Promise<boolean> {
    const { maxBufferBytes, heartbeatMs } = this.limits;
    if (this.res.writableLength <= maxBufferBytes) return Promise.resolve(true);
    return new Promise((resolve) => {
      const settle = (room: boolean) => {
        clearTimeout(timer);
        this.res.off('drain', drained);
        this.res.off('close', closed);
        resolve(room);
      };
      const drained = () => settle(true);
      const closed = () => settle(false);
      const timer = setTimeout(() => settle(this.res.writableLength <= maxBufferBytes), heartbeatMs);
      this.res.once('drain', drained);
      this.res.once('close', closed);
    });
  }

  private overflow(): void {
    if (this.ended) return;
    this.res.write(`event: overflow\ndata: ${JSON.stringify({ lastSeq: this.lastSent })}\n\n`);
    this.res.end();
    // What is buffered waits a while for the consumer; one that never reads is then cut off.
    const cut = setTimeout(() => this.res.destroy(), DRAIN_GRACE_MS);
    cut.unref();
    this.res.on('close', () => clearTimeout(cut));
    this.close();
  }

  private scheduleHeartbeat(): void {
    this.heartbeat = setInterval(() => {
      // Events wait unsent: the stream is not idle, and the next event decides whether it is behind.
      if (this.res.writableLength > 0) return;
      this.res.write(': heartbeat\n\n');
    }, this.limits.heartbeatMs);
    this.heartbeat.unref();
  }

  private close(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.heartbeat);
    this.onEnd(this);
  }
}
