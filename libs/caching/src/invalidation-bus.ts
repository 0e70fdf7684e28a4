import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { CacheKeys } from './cache-keys';
import { RedisTier } from './redis-tier';

/** What one write invalidates: keys, or everything cached for a branch. */
export interface Invalidation {
  keys?: string[];
  branch?: string;
}

interface Message extends Invalidation {
  id: string;
  origin: string;
}

/**
 * Cross-instance invalidation over Redis pub/sub. A publisher waits until every subscriber has applied
 * its message (each acknowledges on the publisher's own channel), bounded by REDIS_TIMEOUT_MS, so a
 * write's response normally returns only after every instance dropped what it changed. When the
 * subscription comes back after a gap, messages sent meanwhile are lost: `onGap` lets the cache drop its
 * memory tier.
 */
export class InvalidationBus {
  readonly instance = randomUUID();
  private readonly logger = new Logger('InvalidationBus');
  private readonly waiting = new Map<string, { remaining: number; done: () => void }>();
  private connectedOnce = false;

  constructor(
    private readonly subscriber: Redis,
    private readonly redis: RedisTier,
    private readonly keys: CacheKeys,
    private readonly ackTimeoutMs: number,
    private readonly apply: (invalidation: Invalidation) => Promise<void>,
    private readonly onGap: () => Promise<void>,
  ) {}

  /** Subscribes; does not wait for Redis (the cache works without it and catches up on connect). */
  start(): void {
    this.subscriber.on('ready', () => {
      if (this.connectedOnce) {
        this.logger.warn({ message: 'invalidation bus reconnected: dropping the memory tier' });
        void this.onGap();
      }
      this.connectedOnce = true;
    });
    this.subscriber.on('message', (channel: string, payload: string) => void this.receive(channel, payload));
    this.subscriber
      .subscribe(this.keys.invalidationChannel, this.keys.ackChannel(this.instance))
      .catch(() => undefined);
  }

  /** Publishes and waits (bounded) for every instance to have applied it. */
  async publish(invalidation: Invalidation): Promise<void> {
    const message: Message = { ...invalidation, id: randomUUID(), origin: this.instance };
    let receivers: number;
    try {
      receivers = await this.redis.call(() =>
        this.redis.client.publish(this.keys.invalidationChannel, JSON.stringify(message)),
      );
    } catch {
      return; // Redis unreachable: other instances will drop their memory tier when they reconnect.
    }
    if (receivers === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(message.id);
        this.logger.warn({
          message: 'invalidation not acknowledged by every instance in time',
          id: message.id,
        });
        resolve();
      }, this.ackTimeoutMs);
      this.waiting.set(message.id, {
        remaining: receivers,
        done: () => {
          clearTimeout(timer);
          this.waiting.delete(message.id);
          resolve();
        },
      });
    });
  }

  async close(): Promise<void> {
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }

  private async receive(channel: string, payload: string): Promise<void> {
    if (channel === this.keys.ackChannel(this.instance)) {
      const waiter = this.waiting.get(payload);
      if (waiter && --waiter.remaining <= 0) waiter.done();
      return;
    }
    let message: Message;
    try {
      message = JSON.parse(payload) as Message;
    } catch {
      return;
    }
    // The publisher applied its own invalidation before publishing; it only acknowledges.
    if (message.origin !== this.instance) await this.apply(message);
    await this.redis
      .call(() => this.redis.client.publish(this.keys.ackChannel(message.origin), message.id))
      .catch(() => undefined);
  }
}
