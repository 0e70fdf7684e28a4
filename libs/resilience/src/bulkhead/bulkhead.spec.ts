import { CapacityExceeded } from '../errors';
import { NO_EVENTS, ResilienceEvents } from '../resilience-events';
import { Bulkhead } from './bulkhead';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('Bulkhead', () => {
  afterEach(() => jest.useRealTimers());

  it('runs up to maxConcurrent at once and queues the rest in order', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 2, maxQueue: 10, queueTimeoutMs: 10_000 }, NO_EVENTS);
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = gates.map((gate, i) =>
      bulkhead.execute(async () => {
        started.push(i);
        await gate.promise;
        return i;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect([bulkhead.active, bulkhead.queued]).toEqual([2, 2]);
    gates[1]!.resolve();
    await runs[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    gates.forEach((g) => g.resolve());
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect([bulkhead.active, bulkhead.queued]).toEqual([0, 0]);
  });

  it('refuses at once when the queue is full, and says why', async () => {
    const shed: string[] = [];
    const events: ResilienceEvents = { ...NO_EVENTS, shed: (reason) => shed.push(reason) };
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: 10_000 }, events);
    const gate = deferred();
    const first = bulkhead.execute(() => gate.promise);
    const second = bulkhead.execute(() => Promise.resolve());
    await expect(bulkhead.execute(() => Promise.resolve())).rejects.toMatchObject({ reason: 'queue_full' });
    expect(shed).toEqual(['queue_full']);
    gate.resolve();
    await Promise.all([first, second]);
  });

  it('drops a waiter after the queue timeout without stranding the one behind it', async () => {
    jest.useFakeTimers();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 5, queueTimeoutMs: 100 }, NO_EVENTS);
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    const timedOut = bulkhead.execute(() => Promise.resolve('never'));
    jest.advanceTimersByTime(60);
    const later = bulkhead.execute(() => Promise.resolve('later'));
    jest.advanceTimersByTime(50); // the first waiter has waited 110 ms, the second 50 ms
    await expect(timedOut).rejects.toBeInstanceOf(CapacityExceeded);
    await expect(timedOut).rejects.toMatchObject({ reason: 'queue_timeout' });
    expect(bulkhead.queued).toBe(1);
    gate.resolve();
    await running;
    await expect(later).resolves.toBe('later');
    expect([bulkhead.active, bulkhead.queued]).toEqual([0, 0]);
  });

  it('sheds at once with no queue at all', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 0, queueTimeoutMs: 100 }, NO_EVENTS);
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    await expect(bulkhead.execute(() => Promise.resolve())).rejects.toMatchObject({ reason: 'queue_full' });
    gate.resolve();
    await running;
  });

  it('frees the slot when the call fails', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 0, queueTimeoutMs: 100 }, NO_EVENTS);
    await expect(bulkhead.execute(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(bulkhead.execute(() => Promise.resolve('ok'))).resolves.toBe('ok');
  });
});
