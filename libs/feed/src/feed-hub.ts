import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { Unavailable } from '@oms/common';
import { OmsConfig } from '@oms/config';
import { EVENT_LOG, EventLog, FeedEvent } from '@oms/store';
import type { Response } from 'express';
import { EventStream, READ_PAGE } from './event-stream';
import { FEED_EVENTS, FeedEvents, NO_FEED_EVENTS } from './feed-events';

/**
 * How often open streams check the log without being woken: a safety net for a wake-up lost with the
 * listening connection. Wake-ups normally come from NOTIFY within milliseconds.
 */
const SAFETY_POLL_MS = 5_000;

/**
 * The instance's server-sent event streams, by branch. Commits on any instance wake the streams of their
 * branch (PostgreSQL NOTIFY, sent by the commit's transaction); each stream then reads the outbox from where
 * it stands. Streams that stand at the same place share one read.
 */
@Injectable()
export class FeedHub implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('FeedHub');
  private readonly streams = new Map<string, Set<EventStream>>();
  private readonly reads = new Map<string, Promise<FeedEvent[]>>();
  private open = 0;
  private stopListening?: () => Promise<void>;
  private poll?: NodeJS.Timeout;
  private readonly events: FeedEvents;

  constructor(
    @Inject(EVENT_LOG) private readonly log: EventLog,
    private readonly config: OmsConfig,
    @Optional() @Inject(FEED_EVENTS) events: FeedEvents | null,
  ) {
    this.events = events ?? NO_FEED_EVENTS;
  }

  async onModuleInit(): Promise<void> {
    this.events.streams(0);
    this.stopListening = await this.log.subscribe(
      (branch) => this.wake(branch),
      () => this.wakeAll(),
    );
    this.poll = setInterval(() => void this.checkAll(), SAFETY_POLL_MS);
    this.poll.unref();
  }

  /** Opens a stream of `branch` from after `since`; 503 when the instance has all it may hold. */
  attach(branch: string, since: number, res: Response): void {
    const { maxStreams, heartbeatSeconds, maxBufferBytes } = this.config.feed;
    if (this.open >= maxStreams) {
      throw new Unavailable(`This instance serves its most event streams (${maxStreams}).`, 5);
    }
    const stream = new EventStream(
      branch,
      since,
      res,
      (b, after) => this.read(b, after),
      { maxBufferBytes, heartbeatMs: heartbeatSeconds * 1000 },
      (ended) => this.detach(ended),
    );
    let set = this.streams.get(branch);
    if (!set) this.streams.set(branch, (set = new Set()));
    set.add(stream);
    this.count(+1);
    stream.start();
  }

  wake(branch: string): void {
    for (const stream of this.streams.get(branch) ?? []) stream.wake();
  }

  /** SIGTERM: every stream ends cleanly before the server closes (consumers resume with Last-Event-ID). */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.poll);
    for (const set of this.streams.values()) for (const stream of [...set]) stream.end();
    await this.stopListening?.().catch(() => undefined);
  }

  private wakeAll(): void {
    for (const branch of this.streams.keys()) this.wake(branch);
  }

  /** Wakes the branches whose log has moved past one of their streams. */
  private async checkAll(): Promise<void> {
    if (this.open === 0) return;
    try {
      const last = await this.log.lastSeqs();
      for (const [branch, set] of this.streams) {
        if ([...set].some((s) => s.position < (last.get(branch) ?? 0))) this.wake(branch);
      }
    } catch (error) {
      this.logger.warn({ message: 'event log poll failed', error: String(error) });
    }
  }

  /** Streams at the same place read once. */
  private read(branch: string, after: number): Promise<FeedEvent[]> {
    const key = `${after}\u0000${branch}`;
    let read = this.reads.get(key);
    if (!read) {
      read = this.log.after(branch, after, READ_PAGE).finally(() => this.reads.delete(key));
      this.reads.set(key, read);
    }
    return read;
  }

  private detach(stream: EventStream): void {
    const set = this.streams.get(stream.branch);
    if (!set?.delete(stream)) return;
    if (set.size === 0) this.streams.delete(stream.branch);
    this.count(-1);
  }

  private count(delta: number): void {
    this.open += delta;
    this.events.streams(this.open);
  }
}
