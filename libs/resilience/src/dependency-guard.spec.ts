import { loadConfig } from '@oms/config';
import { captureLogs } from '../../../test/support/captured-logs';
import { BreakerRegistry } from './breaker/breaker-registry';
import { DependencyGuards } from './dependency-guard';
import { BreakerOpen, DependencyTimeout } from './errors';
import { FaultInjector } from './faults/fault-injector';
import { NO_EVENTS } from './resilience-events';

function setup() {
  const config = loadConfig({
    OMS_ENV: 'test',
    CIRCUIT_BREAKER_FAILURE_THRESHOLD: '2',
    CIRCUIT_BREAKER_HALF_OPEN_AFTER_SECONDS: '60',
    STORE_TIMEOUT_MS: '40',
    REDIS_TIMEOUT_MS: '30',
  });
  const breakers = new BreakerRegistry(config, NO_EVENTS);
  const faults = new FaultInjector();
  const guards = new DependencyGuards(breakers, faults, config);
  return { breakers, faults, guards };
}

const never = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
const failure = () =>
  Promise.reject(Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' }));

describe('DependencyGuard', () => {
  const logs = captureLogs();

  it('bounds each call by its dependency timeout, aborting it, as a DependencyTimeout', async () => {
    const { guards } = setup();
    let aborted = false;
    const call = guards.get('redis').run(async (signal) => {
      signal.addEventListener('abort', () => (aborted = true));
      return never(signal);
    });
    await expect(call).rejects.toEqual(new DependencyTimeout('redis', 30));
    expect(aborted).toBe(true);
    await expect(guards.get('store').run(never)).rejects.toEqual(new DependencyTimeout('store', 40));
  });

  it('passes answers and other errors through as they are', async () => {
    const { guards } = setup();
    await expect(guards.get('store').run(() => Promise.resolve(42))).resolves.toBe(42);
    const odd = new Error('a bug');
    await expect(guards.get('store').run(() => Promise.reject(odd))).rejects.toBe(odd);
  });

  it("counts failures in its own dependency's breaker, which then refuses calls without running them", async () => {
    const { guards, breakers } = setup();
    for (let i = 0; i < 2; i++) await expect(guards.get('store').run(failure)).rejects.toThrow('refused');
    expect(breakers.get('store').state).toBe('open');
    expect(breakers.get('redis').state).toBe('closed');
    let ran = false;
    await expect(guards.get('store').run(() => Promise.resolve((ran = true)))).rejects.toBeInstanceOf(
      BreakerOpen,
    );
    expect(ran).toBe(false);
    logs.take();
  });

  it('applies an injected fault to its dependency before the call', async () => {
    const { guards, faults } = setup();
    faults.set('redis', { errorRate: 1, latencyMs: 0, durationSeconds: 30 });
    let ran = false;
    await expect(guards.get('redis').run(() => Promise.resolve((ran = true)))).rejects.toThrow();
    expect(ran).toBe(false);
    await expect(guards.get('store').run(() => Promise.resolve('untouched'))).resolves.toBe('untouched');
  });

  it('probes through an open breaker, and an answer from the store lets its breakers try again', async () => {
    const { guards, breakers } = setup();
    for (let i = 0; i < 2; i++) await expect(guards.get('store').run(failure)).rejects.toThrow();
    expect(breakers.get('store').state).toBe('open');
    await expect(guards.get('store').probe(() => Promise.resolve('pong'))).resolves.toBe('pong');
    await expect(guards.get('store').run(() => Promise.resolve('back'))).resolves.toBe('back');
    expect(breakers.get('store').state).toBe('closed');
    logs.take();
  });
});
