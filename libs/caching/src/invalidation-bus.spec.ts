import { EventEmitter } from 'node:events';
import { loadConfig } from '@oms/config';
import { BreakerRegistry, DependencyGuards, FaultInjector, NO_EVENTS } from '@oms/resilience';
import type { Redis } from 'ioredis';
import { captureLogs, logged } from '../../../test/support/captured-logs';
import { NO_CACHE_EVENTS } from './cache-events';
import { CacheKeys } from './cache-keys';
import { Invalidation, InvalidationBus } from './invalidation-bus';
import { RedisTier } from './redis-tier';

/**
 * Redis pub/sub in memory, as far as the bus uses it: PUBLISH answers how many subscribers the channel
 * has and delivers the message to each of them afterwards (as Redis does, on their own connections).
 */
class Broker {
  private readonly channels = new Map<string, Set<Subscriber>>();

  publish(channel: string, message: string): Promise<number> {
    const receivers = [...(this.channels.get(channel) ?? [])];
    setImmediate(() => receivers.forEach((s) => s.emit('message', channel, message)));
    return Promise.resolve(receivers.length);
  }

  subscribe(subscriber: Subscriber, channels: string[]): void {
    for (const channel of channels) {
      const set = this.channels.get(channel) ?? new Set();
      set.add(subscriber);
      this.channels.set(channel, set);
    }
  }

  unsubscribe(subscriber: Subscriber): void {
    for (const set of this.channels.values()) set.delete(subscriber);
  }

  /** The connection a RedisTier commands through (PUBLISH is the only command the bus sends). */
  client(): Redis {
    return {
      publish: (channel: string, message: string) => this.publish(channel, message),
    } as unknown as Redis;
  }
}

/** A subscriber connection: `ready` on (re)connect, `message` per delivery. */
class Subscriber extends EventEmitter {
  constructor(private readonly broker: Broker) {
    super();
  }

  subscribe(...channels: string[]): Promise<number> {
    this.broker.subscribe(this, channels);
    return Promise.resolve(channels.length);
  }

  quit(): Promise<'OK'> {
    this.broker.unsubscribe(this);
    return Promise.resolve('OK');
  }

  disconnect(): void {
    this.broker.unsubscribe(this);
  }
}

interface Member {
  bus: InvalidationBus;
  subscriber: Subscriber;
  faults: FaultInjector;
  /** Every invalidation this instance applied, in order. */
  applied: Invalidation[];
  gaps: number;
}

const REDIS_TIMEOUT_MS = 200;

/** One instance of a deployment: its bus on the broker, with the real RedisTier, breaker and faults. */
function member(
  broker: Broker,
  options: { prefix?: string; ackTimeoutMs?: number; apply?: (i: Invalidation) => Promise<void> } = {},
): Member {
  const config = loadConfig({ OMS_ENV: 'test', REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS) });
  const faults = new FaultInjector();
  const guards = new DependencyGuards(new BreakerRegistry(config, NO_EVENTS), faults, config);
  const redis = new RedisTier(broker.client(), guards.get('redis'), NO_CACHE_EVENTS, 60_000);
  const subscriber = new Subscriber(broker);
  const made: Member = { bus: undefined!, subscriber, faults, applied: [], gaps: 0 };
  made.bus = new InvalidationBus(
    subscriber as unknown as Redis,
    redis,
    new CacheKeys(options.prefix ?? 'oms:'),
    options.ackTimeoutMs ?? 10_000,
    async (invalidation) => {
      await options.apply?.(invalidation);
      made.applied.push(invalidation);
    },
    () => {
      made.gaps++;
      return Promise.resolve();
    },
  );
  return made;
}

function started(broker: Broker, options: Parameters<typeof member>[1] = {}): Member {
  const made = member(broker, options);
  made.bus.start();
  return made;
}

/** Settles when the promise does, or says it is still pending after `ms`. */
const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([
    promise.then(() => 'settled' as const),
    new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms)),
  ]);

const turns = (n = 5) => new Promise<void>((resolve) => setTimeout(resolve, n));

describe('InvalidationBus', () => {
  const logs = captureLogs();

  it("applies another instance's invalidation, never its own (the publisher applied it already)", async () => {
    const broker = new Broker();
    const [a, b, c] = [started(broker), started(broker), started(broker)];
    await a.bus.publish({ keys: ['oms:b:main:doc:1', 'oms:b:main:types'] });
    expect(a.applied).toEqual([]);
    for (const other of [b, c]) {
      expect(other.applied).toEqual([
        expect.objectContaining({ keys: ['oms:b:main:doc:1', 'oms:b:main:types'] }),
      ]);
    }
    await b.bus.publish({ branch: 'feature' });
    expect(b.applied).toEqual([expect.objectContaining({ keys: ['oms:b:main:doc:1', 'oms:b:main:types'] })]);
    expect(a.applied).toEqual([expect.objectContaining({ branch: 'feature' })]);
    expect(c.applied).toHaveLength(2);
  });

  it('returns from publish only once every instance has applied the invalidation', async () => {
    const broker = new Broker();
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const a = started(broker);
    const b = started(broker, { apply: () => slow });
    const published = a.bus.publish({ keys: ['oms:b:main:doc:1'] });
    expect(await within(published, 100)).toBe('pending');
    release();
    expect(await within(published, 1000)).toBe('settled');
    expect(b.applied).toHaveLength(1);
  });

  it('stops waiting for an instance that never acknowledges after the ack timeout, and says so', async () => {
    const broker = new Broker();
    const a = started(broker, { ackTimeoutMs: 150 });
    // An instance that hears the invalidation but never answers (stuck, or gone after subscribing).
    const silent = new Subscriber(broker);
    await silent.subscribe(new CacheKeys('oms:').invalidationChannel);
    const since = Date.now();
    const published = a.bus.publish({ keys: ['oms:b:main:doc:1'] });
    expect(await within(published, 100)).toBe('pending');
    expect(await within(published, 1000)).toBe('settled');
    expect(Date.now() - since).toBeGreaterThanOrEqual(140);
    expect(logs.take()).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: expect.objectContaining({
          message: 'invalidation not acknowledged by every instance in time',
        }),
      }),
    ]);
  });

  it('does not wait when Redis cannot be reached, nor when no instance listens', async () => {
    const broker = new Broker();
    const a = started(broker);
    const b = started(broker);
    a.faults.set('redis', { errorRate: 1, latencyMs: 0 });
    expect(await within(a.bus.publish({ keys: ['oms:b:main:doc:1'] }), 500)).toBe('settled');
    await turns();
    expect(b.applied).toEqual([]);

    const alone = member(new Broker()); // not started: nobody is subscribed, not even itself
    expect(await within(alone.bus.publish({ keys: ['oms:b:main:doc:1'] }), 500)).toBe('settled');
  });

  it('keeps deployments apart: another REDIS_CACHE_PREFIX neither hears nor delays an invalidation', async () => {
    const broker = new Broker();
    const a = started(broker, { prefix: 'blue:' });
    const b = started(broker, { prefix: 'green:', apply: () => new Promise(() => undefined) });
    expect(await within(a.bus.publish({ keys: ['blue:b:main:doc:1'] }), 500)).toBe('settled');
    await turns();
    expect(b.applied).toEqual([]);
  });

  it('drops the memory tier when the subscription comes back after a gap, not on the first connection', () => {
    const broker = new Broker();
    const a = started(broker);
    a.subscriber.emit('ready');
    expect(a.gaps).toBe(0);
    a.subscriber.emit('ready');
    expect(a.gaps).toBe(1);
    expect(logs.take()).toEqual([
      logged('warn', 'InvalidationBus', 'invalidation bus reconnected: dropping the memory tier'),
    ]);
  });

  it('ignores a message that is not JSON and goes on with the next', async () => {
    const broker = new Broker();
    const [a, b] = [started(broker), started(broker)];
    await broker.publish(new CacheKeys('oms:').invalidationChannel, 'not json {');
    await turns();
    expect(b.applied).toEqual([]);
    await a.bus.publish({ keys: ['oms:u:alice'] });
    expect(b.applied).toEqual([expect.objectContaining({ keys: ['oms:u:alice'] })]);
  });

  it('hears nothing more once closed', async () => {
    const broker = new Broker();
    const [a, b] = [started(broker), started(broker)];
    await b.bus.close();
    expect(await within(a.bus.publish({ keys: ['oms:b:main:doc:1'] }), 500)).toBe('settled');
    await turns();
    expect(b.applied).toEqual([]);
  });
});
