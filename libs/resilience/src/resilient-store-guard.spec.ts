import { DependencyFailed, NotFound, OutcomeUnknown, ValidationFailed } from '@oms/common';
import { loadConfig } from '@oms/config';
import { CommitOutcomeUnknown } from '@oms/store';
import { setTimeout as sleep } from 'node:timers/promises';
import { captureLogs, logged } from '../../../test/support/captured-logs';
import { BreakerRegistry } from './breaker/breaker-registry';
import { DependencyGuards } from './dependency-guard';
import { BreakerOpen } from './errors';
import { FaultInjector } from './faults/fault-injector';
import { NO_EVENTS } from './resilience-events';
import { ResilientStoreGuard } from './resilient-store-guard';

/** An error as pg and PGlite raise them: a message and a SQLSTATE code. */
const sqlError = (code: string) => Object.assign(new Error(`sqlstate ${code}`), { code });

function setup() {
  const config = loadConfig({
    OMS_ENV: 'test',
    CIRCUIT_BREAKER_FAILURE_THRESHOLD: '3',
    CIRCUIT_BREAKER_HALF_OPEN_AFTER_SECONDS: '30',
    STORE_TIMEOUT_MS: '50',
  });
  const breakers = new BreakerRegistry(config, NO_EVENTS);
  const guard = new ResilientStoreGuard(new DependencyGuards(breakers, new FaultInjector(), config), config);
  return { guard, store: breakers.get('store'), documents: breakers.get('documents') };
}

const failWith = (error: Error) => () => Promise.reject(error);

// The guard logs each store failure and each refused value at warn, the breakers each transition: every
// test asserts the lines it causes (none reach the terminal).
const logs = captureLogs();
const storeFailed = (operation: string, committing = false) =>
  logged('warn', 'Store', 'store operation failed', { operation, committing, error: expect.any(String) });
const refused = logged('warn', 'Store', 'the store refused a value', {
  operation: 'read',
  error: expect.any(String),
});
const transition = (breaker: string, to: string) =>
  logged('warn', 'CircuitBreaker', 'circuit breaker transition', { breaker, to });
const probeAnswered = (breaker: string) =>
  logged('warn', 'CircuitBreaker', 'dependency answered a probe: trial calls admitted', { breaker });

describe('ResilientStoreGuard', () => {
  it.each([
    ['22021', 'invalid byte sequence (NUL)'],
    ['22P05', 'unsupported Unicode escape'],
    ['22008', 'datetime out of range'],
    ['54001', 'statement too complex'],
  ])('answers a data error %s (%s) with 400 and never counts it', async (code) => {
    const { guard, store } = setup();
    for (let i = 0; i < 10; i++) {
      await expect(guard.run('read', failWith(sqlError(code)))).rejects.toBeInstanceOf(ValidationFailed);
    }
    expect(store.state).toBe('closed');
    expect(logs.take()).toEqual(Array.from({ length: 10 }, () => refused));
  });

  it.each(['23505', '42P01', '42703'])(
    'lets a bug of ours (%s) through as a 500 without counting it',
    async (code) => {
      const { guard, store } = setup();
      for (let i = 0; i < 10; i++) {
        await expect(guard.run('read', failWith(sqlError(code)))).rejects.toMatchObject({ code });
      }
      expect(store.state).toBe('closed');
      expect(logs.take()).toEqual([]); // the problem filter logs a 500, not the guard
    },
  );

  it.each([
    ['a connection exception', sqlError('08006')],
    ['the server shutting down', sqlError('57P01')],
    ['too many connections', sqlError('53300')],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['a terminated connection', new Error('Connection terminated unexpectedly')],
    ['a pool closed by shutdown', new Error('Cannot use a pool after calling end on the pool')],
    ['PGlite closed by shutdown', new Error('PGlite is closed')],
  ])('counts %s as a store failure: 503, and the breaker opens', async (_, error) => {
    const { guard, store } = setup();
    for (let i = 0; i < 3; i++) {
      await expect(guard.run('read', failWith(error))).rejects.toBeInstanceOf(DependencyFailed);
    }
    expect(store.state).toBe('open');
    await expect(guard.run('read', () => Promise.resolve(1))).rejects.toBeInstanceOf(BreakerOpen);
    expect(logs.take()).toEqual([
      storeFailed('read'),
      storeFailed('read'),
      transition('store', 'open'),
      storeFailed('read'),
    ]);
  });

  it('passes domain answers through untouched', async () => {
    const { guard, store } = setup();
    const answer = new NotFound('Document', 'x');
    for (let i = 0; i < 5; i++) await expect(guard.run('read', failWith(answer))).rejects.toBe(answer);
    expect(store.state).toBe('closed');
    expect(logs.take()).toEqual([]);
  });

  it('says 503 "nothing was changed" for a write that timed out before its commit was sent', async () => {
    const { guard } = setup();
    let aborted = false;
    const write = guard.run('write', async ({ signal }) => {
      await sleep(120);
      aborted = signal.aborted;
    });
    await expect(write).rejects.toBeInstanceOf(DependencyFailed);
    await expect(write).rejects.toThrow('nothing was changed');
    await sleep(100);
    expect(aborted).toBe(true); // the write sees the signal and rolls back instead of committing
    expect(logs.take()).toEqual([storeFailed('write')]);
  });

  it('says 504 "outcome unknown" for a write that timed out after its commit was sent', async () => {
    const { guard } = setup();
    const write = guard.run('write', async ({ onCommit }) => {
      onCommit();
      await sleep(120);
    });
    await expect(write).rejects.toBeInstanceOf(OutcomeUnknown);
    await expect(write).rejects.toThrow('may or may not have been applied');
    expect(logs.take()).toEqual([storeFailed('write', true)]);
  });

  it('says 504 for a connection lost while committing, and counts it', async () => {
    const { guard, store } = setup();
    const lost = new CommitOutcomeUnknown(new Error('Connection terminated unexpectedly'));
    for (let i = 0; i < 3; i++)
      await expect(guard.run('write', failWith(lost))).rejects.toBeInstanceOf(OutcomeUnknown);
    expect(store.state).toBe('open');
    expect(logs.take()).toEqual([
      storeFailed('write'),
      storeFailed('write'),
      transition('store', 'open'),
      storeFailed('write'),
    ]);
  });

  it('lets open store and group breakers try again as soon as a probe gets an answer', async () => {
    const { guard, store, documents } = setup();
    for (let i = 0; i < 3; i++)
      await expect(documents.execute(failWith(new DependencyFailed('store', 'x')))).rejects.toThrow();
    expect(documents.state).toBe('open');
    for (let i = 0; i < 3; i++)
      await expect(guard.run('read', failWith(sqlError('08006')))).rejects.toThrow();
    expect(store.state).toBe('open');
    await guard.probe(() => Promise.resolve());
    expect(store.state).toBe('half-open');
    expect(documents.state).toBe('half-open');
    await expect(guard.run('read', () => Promise.resolve('ok'))).resolves.toBe('ok');
    expect(store.state).toBe('closed');
    expect(logs.take()).toEqual([
      transition('documents', 'open'),
      storeFailed('read'),
      storeFailed('read'),
      transition('store', 'open'),
      storeFailed('read'),
      probeAnswered('store'),
      transition('store', 'half-open'),
      probeAnswered('documents'),
      transition('documents', 'half-open'),
      transition('store', 'closed'),
    ]);
  });
});
