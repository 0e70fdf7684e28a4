import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { OmsConfig } from '@oms/config';
import { BreakerOpen, BreakerRegistry } from '@oms/resilience';
import { EVENT_LOG, EventLog, LeasedDelivery, Settlement, WEBHOOK_STORE, WebhookStore } from '@oms/store';
import { ReceiverTimeout, isAcknowledged, postEvent } from './post-event';
import { signedHeaders } from './signing';
import { DeliveryOutcome, NO_WEBHOOK_EVENTS, WEBHOOK_EVENTS, WebhookEvents } from './webhook-events';

/** The receiver answered 410 Gone: it wants nothing more. Not a failure its breaker counts. */
class ReceiverGone extends Error {}

/** A receiver's answer that is not a 2xx (a failure its breaker counts). */
class ReceiverRefusedEvent extends Error {
  constructor(
    readonly status: number,
    answer: string,
  ) {
    super(`the receiver answered ${status}${answer ? `: ${answer.replace(/\s+/g, ' ').trim()}` : ''}`);
  }
}

/** How often the backlog gauges are read from the database (a count of the pending rows' index). */
const BACKLOG_EVERY_MS = 15_000;
/** Commits wake the dispatcher; under a stream of them it leases at most once per this. */
const LEASE_EVERY_MS = 20;
/** How often breakers of webhooks deleted elsewhere are dropped. */
const RECONCILE_EVERY_MS = 60_000;

export const breakerOf = (webhookId: string) => `webhook:${webhookId}`;

/**
 * The wait after the `attempts`-th failed attempt: exponential backoff with full jitter, uniform in
 * [0, min(retryMaxMs, retryBaseMs × 2^(attempts−1))].
 */
export function retryDelay(
  attempts: number,
  { retryBaseMs, retryMaxMs }: { retryBaseMs: number; retryMaxMs: number },
  random: () => number = Math.random,
): number {
  const cap = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(Math.max(attempts, 1) - 1, 40));
  return Math.floor(random() * cap);
}

/**
 * Sends the deliveries the commits queued (outbox.ts). Each instance leases due queue heads (one per
 * webhook and branch, so events go in seq order) up to WEBHOOK_MAX_IN_FLIGHT at a time, sends each through
 * its receiver's breaker with WEBHOOK_TIMEOUT_MS, and settles it: delivered, retried with exponential
 * backoff and full jitter, dead-lettered after WEBHOOK_MAX_ATTEMPTS, or (410) the webhook disabled. A
 * lease outlives the timeout, so a crash mid-send means a second send after it expires: at least once.
 * Commits wake it (NOTIFY); retries that come due are found by polling.
 */
@Injectable()
export class DeliveryDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private stopListening?: () => Promise<void>;
  private leasing = false;
  private leaseAgain: 'now' | 'soon' | null = null;
  private lastLease = 0;
  private deferredKick?: NodeJS.Timeout;
  private stopping = false;
  private readonly events: WebhookEvents;

  constructor(
    @Inject(WEBHOOK_STORE) private readonly store: WebhookStore,
    @Inject(EVENT_LOG) private readonly log: EventLog,
    private readonly breakers: BreakerRegistry,
    private readonly config: OmsConfig,
    @Optional() @Inject(WEBHOOK_EVENTS) events: WebhookEvents | null,
  ) {
    this.events = events ?? NO_WEBHOOK_EVENTS;
  }

  /**
   * Long enough for a send at its timeout and the settling after it (a store call at its own bound): a
   * lease expires only when its instance died or lost the store meanwhile.
   */
  private get leaseMs(): number {
    return this.config.webhooks.timeoutMs + this.config.store.timeoutMs + 1_000;
  }

  async onApplicationBootstrap(): Promise<void> {
    const { retryBaseMs } = this.config.webhooks;
    this.stopListening = await this.log.subscribe(
      () => this.kick(),
      () => this.kick(),
    );
    const every = (ms: number, fn: () => void) => {
      const timer = setInterval(fn, ms);
      timer.unref();
      this.timers.push(timer);
    };
    // Retries come due without a commit to announce them: polled, at least once a second.
    every(Math.min(1_000, Math.max(50, retryBaseMs / 2)), () => this.kick());
    every(BACKLOG_EVERY_MS, () => void this.reportBacklog());
    every(RECONCILE_EVERY_MS, () => void this.forgetDeleted());
    void this.reportBacklog();
    this.kick();
  }

  /** Stops leasing, and waits (at most the send timeout) for the deliveries in flight to settle. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers) clearInterval(timer);
    clearTimeout(this.deferredKick);
    await this.stopListening?.().catch(() => undefined);
    const wait = new Promise((resolve) => setTimeout(resolve, this.config.webhooks.timeoutMs).unref());
    await Promise.race([Promise.allSettled([...this.inFlight]), wait]);
  }

  /**
   * Leases what is due, as far as there is room in flight: one lease at a time, again if asked meanwhile.
   * Wake-ups (commits, polls) lease at most every LEASE_EVERY_MS, so a burst of commits costs a few leases,
   * not one each; a settled delivery (`now`: its queue's next event is due) leases at once.
   */
  kick(now = false): void {
    if (this.stopping) return;
    if (this.leasing) {
      this.leaseAgain = this.leaseAgain === 'now' || now ? 'now' : 'soon';
      return;
    }
    if (this.deferredKick && !now) return;
    const wait = now ? 0 : this.lastLease + LEASE_EVERY_MS - performance.now();
    if (wait > 0) {
      this.deferredKick = setTimeout(() => {
        this.deferredKick = undefined;
        this.kick();
      }, wait);
      return;
    }
    clearTimeout(this.deferredKick);
    this.deferredKick = undefined;
    this.lastLease = performance.now();
    this.leasing = true;
    void this.leaseDue().finally(() => {
      this.leasing = false;
      const again = this.leaseAgain;
      this.leaseAgain = null;
      if (again) this.kick(again === 'now');
    });
  }

  private async leaseDue(): Promise<void> {
    const room = this.config.webhooks.maxInFlight - this.inFlight.size;
    if (room <= 0) return;
    let leased: LeasedDelivery[];
    try {
      leased = await this.store.lease(room, this.leaseMs);
    } catch (error) {
      this.logger.warn({ message: 'leasing deliveries failed', error: String(error) });
      return;
    }
    for (const delivery of leased) {
      const sending = this.deliver(delivery).finally(() => {
        this.inFlight.delete(sending);
        this.kick(true); // room again, and the queue's next event is due now
      });
      this.inFlight.add(sending);
    }
  }

  private async deliver(delivery: LeasedDelivery): Promise<void> {
    const body = JSON.stringify(delivery.event);
    const headers = signedHeaders(delivery.secret, `msg_${delivery.id}`, body);
    const breaker = this.breakers.receiver(
      breakerOf(delivery.webhookId),
      (error) => !(error instanceof ReceiverGone),
    );
    let settlement: Settlement;
    let outcome: DeliveryOutcome;
    try {
      const status = await breaker.execute(async () => {
        const answer = await postEvent(delivery.url, headers, body, this.config.webhooks);
        if (answer.status === 410) throw new ReceiverGone();
        if (!isAcknowledged(answer.status)) throw new ReceiverRefusedEvent(answer.status, answer.answer);
        return answer.status;
      });
      settlement = { outcome: 'delivered', status };
      outcome = 'delivered';
      this.events.delivered((Date.now() - Date.parse(delivery.event.createdAt)) / 1000);
    } catch (error) {
      [settlement, outcome] = this.failure(delivery, error);
    }
    this.events.attempted(outcome);
    try {
      await this.store.settle(delivery, settlement);
    } catch (error) {
      // Its lease runs out and it is sent again: at least once.
      this.logger.warn({
        message: 'settling a delivery failed',
        delivery: delivery.id,
        error: String(error),
      });
    }
    // A dead letter is news for operators at once, not at the next count.
    if (outcome === 'dead_lettered') void this.reportBacklog();
  }

  private failure(delivery: LeasedDelivery, error: unknown): [Settlement, DeliveryOutcome] {
    if (error instanceof BreakerOpen) {
      const retryAt = new Date(Date.now() + error.retryAfterSeconds * 1000);
      return [{ outcome: 'deferred', error: error.message, retryAt }, 'breaker_open'];
    }
    if (error instanceof ReceiverGone) return [{ outcome: 'gone', status: 410 }, 'gone'];
    const attempts = delivery.attempts + 1;
    const status = error instanceof ReceiverRefusedEvent ? error.status : null;
    const message = error instanceof Error ? error.message : String(error);
    if (attempts >= this.config.webhooks.maxAttempts) {
      this.logger.warn({
        message: 'delivery dead-lettered',
        delivery: delivery.id,
        attempts,
        error: message,
      });
      return [{ outcome: 'failed', status, error: message, retryAt: null }, 'dead_lettered'];
    }
    const retryAt = new Date(Date.now() + this.backoff(attempts));
    return [
      { outcome: 'failed', status, error: message, retryAt },
      error instanceof ReceiverTimeout ? 'timeout' : 'failed',
    ];
  }

  private backoff(attempts: number): number {
    return retryDelay(attempts, this.config.webhooks);
  }

  private async reportBacklog(): Promise<void> {
    try {
      const { pending, dead } = await this.store.backlog();
      this.events.backlog(pending, dead);
    } catch {
      // the store is down: the gauges keep their last values, store_up tells the rest
    }
  }

  /** Breakers of webhooks deleted (perhaps on another instance) go, with their metric series. */
  private async forgetDeleted(): Promise<void> {
    try {
      const live = new Set((await this.store.list()).map((w) => breakerOf(w.id)));
      for (const breaker of this.breakers.all()) {
        if (breaker.name.startsWith('webhook:') && !live.has(breaker.name))
          this.breakers.forget(breaker.name);
      }
    } catch {
      // tried again next time
    }
  }
}
