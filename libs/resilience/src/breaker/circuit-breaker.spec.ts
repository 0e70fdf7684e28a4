import { captureLogs, logged } from '../../../../test/support/captured-logs';
import { BreakerOpen } from '../errors';
import { BreakerState, NO_EVENTS, ResilienceEvents } from '../resilience-events';
import { CircuitBreaker } from './circuit-breaker';

class ClientError extends Error {}

function make(overrides: Partial<ConstructorParameters<typeof CircuitBreaker>[1]> = {}, events = NO_EVENTS) {
  return new CircuitBreaker(
    'test',
    {
      consecutiveFailures: 2,
      errorRate: 0.5,
      windowMs: 60_000,
      minCalls: 100,
      halfOpenAfterMs: 1_000,
      halfOpenMaxCalls: 1,
      isFailure: (e) => !(e instanceof ClientError),
      ...overrides,
    },
    events,
  );
}

const fail = () => Promise.reject(new Error('server failure'));

// Every transition is logged at warn: each test asserts the lines it causes (none reach the terminal).
const logs = captureLogs();
const transition = (to: BreakerState) =>
  logged('warn', 'CircuitBreaker', 'circuit breaker transition', { breaker: 'test', to });
const probeAnswered = logged('warn', 'CircuitBreaker', 'dependency answered a probe: trial calls admitted', {
  breaker: 'test',
});

describe('CircuitBreaker', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('opens after consecutive failures and then refuses without running the call', async () => {
    const transitions: BreakerState[] = [];
    const events: ResilienceEvents = { ...NO_EVENTS, breakerTransition: (_, to) => transitions.push(to) };
    const breaker = make({}, events);
    await expect(breaker.execute(fail)).rejects.toThrow('server failure');
    await expect(breaker.execute(fail)).rejects.toThrow('server failure');
    expect(breaker.state).toBe('open');
    const call = jest.fn(() => Promise.resolve('ran'));
    const refused = breaker.execute(call);
    await expect(refused).rejects.toBeInstanceOf(BreakerOpen);
    await expect(refused).rejects.toMatchObject({ retryAfterSeconds: 1 });
    expect(call).not.toHaveBeenCalled();
    expect(transitions).toEqual(['open']);
    expect(logs.take()).toEqual([transition('open')]);
  });

  it('never counts client errors', async () => {
    const breaker = make();
    for (let i = 0; i < 5; i++)
      await expect(breaker.execute(() => Promise.reject(new ClientError()))).rejects.toThrow();
    expect(breaker.state).toBe('closed');
    expect(logs.take()).toEqual([]);
  });

  it('admits at most halfOpenMaxCalls trial calls, and the first success closes it', async () => {
    const breaker = make({ halfOpenMaxCalls: 2 });
    await expect(breaker.execute(fail)).rejects.toThrow();
    await expect(breaker.execute(fail)).rejects.toThrow();
    jest.advanceTimersByTime(1_000);
    let release!: () => void;
    const slow = new Promise<string>((resolve) => (release = () => resolve('trial')));
    const first = breaker.execute(() => slow);
    expect(breaker.state).toBe('half-open');
    const second = breaker.execute(() => Promise.resolve('second trial'));
    await expect(breaker.execute(() => Promise.resolve('third'))).rejects.toBeInstanceOf(BreakerOpen);
    release();
    await expect(first).resolves.toBe('trial');
    await expect(second).resolves.toBe('second trial');
    expect(breaker.state).toBe('closed');
    expect(logs.take()).toEqual([transition('open'), transition('half-open'), transition('closed')]);
  });

  it('reports half-open once trials are due, before any call arrives, and only once', async () => {
    const transitions: BreakerState[] = [];
    const events: ResilienceEvents = { ...NO_EVENTS, breakerTransition: (_, to) => transitions.push(to) };
    const breaker = make({}, events);
    await expect(breaker.execute(fail)).rejects.toThrow();
    await expect(breaker.execute(fail)).rejects.toThrow();
    expect(breaker.state).toBe('open');
    jest.advanceTimersByTime(1_000);
    expect(breaker.state).toBe('half-open');
    expect(transitions).toEqual(['open', 'half-open']);
    await expect(breaker.execute(() => Promise.resolve('trial'))).resolves.toBe('trial');
    expect(transitions).toEqual(['open', 'half-open', 'closed']);
    expect(logs.take()).toEqual(transitions.map(transition));
  });

  it('reopens when a trial call fails', async () => {
    const breaker = make();
    await expect(breaker.execute(fail)).rejects.toThrow();
    await expect(breaker.execute(fail)).rejects.toThrow();
    jest.advanceTimersByTime(1_000);
    await expect(breaker.execute(fail)).rejects.toThrow('server failure');
    expect(breaker.state).toBe('open');
    await expect(breaker.execute(() => Promise.resolve())).rejects.toBeInstanceOf(BreakerOpen);
    expect(logs.take()).toEqual([transition('open'), transition('half-open'), transition('open')]);
  });

  it('resets to closed on demand', async () => {
    const breaker = make();
    await expect(breaker.execute(fail)).rejects.toThrow();
    await expect(breaker.execute(fail)).rejects.toThrow();
    breaker.reset();
    expect(breaker.state).toBe('closed');
    await expect(breaker.execute(() => Promise.resolve('ok'))).resolves.toBe('ok');
    expect(logs.take()).toEqual([transition('open'), transition('closed')]);
  });
});

describe('CircuitBreaker.dependencyAnswered', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('admits trial calls at once when a probe saw the dependency answer, long before HALF_OPEN_AFTER', async () => {
    const breaker = make({ halfOpenAfterMs: 30_000 });
    await expect(breaker.execute(fail)).rejects.toThrow();
    await expect(breaker.execute(fail)).rejects.toThrow();
    expect(breaker.state).toBe('open');
    breaker.dependencyAnswered();
    expect(breaker.state).toBe('half-open');
    await expect(breaker.execute(() => Promise.resolve('back'))).resolves.toBe('back');
    expect(breaker.state).toBe('closed');
    expect(logs.take()).toEqual([
      transition('open'),
      probeAnswered,
      transition('half-open'),
      transition('closed'),
    ]);
  });

  it('reopens, for the full HALF_OPEN_AFTER, when the trial after a probe fails', async () => {
    const breaker = make({ halfOpenAfterMs: 30_000 });
    await expect(breaker.execute(fail)).rejects.toThrow();
    await expect(breaker.execute(fail)).rejects.toThrow();
    breaker.dependencyAnswered();
    await expect(breaker.execute(fail)).rejects.toThrow('server failure');
    expect(breaker.state).toBe('open');
    jest.advanceTimersByTime(29_000);
    await expect(breaker.execute(() => Promise.resolve('x'))).rejects.toBeInstanceOf(BreakerOpen);
    expect(logs.take()).toEqual([
      transition('open'),
      probeAnswered,
      transition('half-open'),
      transition('open'),
    ]);
  });

  it('does nothing to a closed breaker', () => {
    const breaker = make();
    breaker.dependencyAnswered();
    expect(breaker.state).toBe('closed');
    expect(logs.take()).toEqual([]);
  });
});
