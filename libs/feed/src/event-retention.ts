import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { OmsConfig } from '@oms/config';
import { EVENT_LOG, EventLog } from '@oms/store';

const DAY_MS = 86_400_000;

/**
 * Drops events older than EVENT_RETENTION_DAYS, except those a webhook still owes, at start and then a
 * tenth of the retention apart (at least a second, at most an hour). Every instance runs it; the
 * deletes are idempotent.
 */
@Injectable()
export class EventRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('EventRetention');
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(EVENT_LOG) private readonly log: EventLog,
    private readonly config: OmsConfig,
  ) {}

  get retentionMs(): number {
    return this.config.feed.retentionDays * DAY_MS;
  }

  onApplicationBootstrap(): void {
    const every = Math.min(3_600_000, Math.max(1_000, this.retentionMs / 10));
    void this.prune();
    this.timer = setInterval(() => void this.prune(), every);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async prune(): Promise<number> {
    try {
      const pruned = await this.log.prune(new Date(Date.now() - this.retentionMs));
      if (pruned > 0) this.logger.log({ message: 'events pruned', pruned });
      return pruned;
    } catch (error) {
      this.logger.warn({ message: 'pruning events failed', error: String(error) });
      return 0;
    }
  }
}
