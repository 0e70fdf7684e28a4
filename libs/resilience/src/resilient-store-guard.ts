import { Injectable, Logger } from '@nestjs/common';
import {
  DependencyFailed,
  DomainError,
  OutcomeUnknown,
  Unavailable,
  ValidationFailed,
  bodyPointer,
} from '@oms/common';
import { OmsConfig } from '@oms/config';
import { CommitOutcomeUnknown, GuardOptions, StoreCall, StoreGuard, classifyStoreError } from '@oms/store';
import { DependencyGuard, DependencyGuards } from './dependency-guard';
import { DependencyTimeout } from './errors';
import { KeyedSerializer } from './bulkhead/keyed-serializer';
import { isStoreFailure } from './store-failure';

/**
 * Every store operation, through the store's DependencyGuard (the `store` breaker around a
 * STORE_TIMEOUT_MS bound, faults first). Failures are classified here, once: the store failing is a 503 the
 * breaker counts (504 when a commit's answer was lost); a value the store refused is a 400 and a bug of
 * ours a 500, neither counted — so no request can open the breaker for everyone.
 */
@Injectable()
export class ResilientStoreGuard implements StoreGuard {
  private readonly logger = new Logger('Store');
  private readonly guard: DependencyGuard;
  private readonly serial: KeyedSerializer;

  constructor(guards: DependencyGuards, config: OmsConfig) {
    this.guard = guards.get('store');
    this.serial = new KeyedSerializer(config.store.timeoutMs);
  }

  async run<T>(
    operation: string,
    fn: (call: StoreCall) => Promise<T>,
    options: GuardOptions = {},
  ): Promise<T> {
    const { serialize, timeoutMs } = options;
    if (serialize)
      return this.serial.run(serialize.key, serialize.describe, () => this.guarded(operation, fn, timeoutMs));
    return this.guarded(operation, fn, timeoutMs);
  }

  private async guarded<T>(
    operation: string,
    fn: (call: StoreCall) => Promise<T>,
    timeoutMs?: number,
  ): Promise<T> {
    let committing = false;
    const onCommit = () => {
      committing = true;
    };
    try {
      const lockTimeoutMs = Math.ceil(this.guard.timeoutMs / 2);
      return await this.guard.run((signal) => fn({ signal, onCommit, lockTimeoutMs }), timeoutMs);
    } catch (error) {
      throw this.translate(operation, error, committing, timeoutMs);
    }
  }

  /** A health probe: bounded, never refused by the breaker; an answer lets an open breaker try again now. */
  async probe<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await this.guard.probe(() => fn());
    } catch (error) {
      throw this.translate('ping', error, false);
    }
  }

  get timeoutMs(): number {
    return this.guard.timeoutMs;
  }

  explain(operation: string, error: unknown): unknown {
    return this.translate(operation, error, false);
  }

  private translate(
    operation: string,
    error: unknown,
    committing: boolean,
    timeoutMs = this.guard.timeoutMs,
  ): unknown {
    if (error instanceof DomainError) return error; // an answer (not found, conflict…), or BreakerOpen
    if (isStoreFailure(error)) {
      this.logger.warn({ message: 'store operation failed', operation, committing, error: String(error) });
      const what = error instanceof DependencyTimeout ? `did not answer within ${timeoutMs} ms` : 'failed';
      if (committing || error instanceof CommitOutcomeUnknown) {
        return new OutcomeUnknown(
          'store',
          `The store ${what} while committing this write: it may or may not have been applied. ` +
            'Read the resource before retrying.',
        );
      }
      return new DependencyFailed('store', `The store ${what}; nothing was changed.`);
    }
    switch (classifyStoreError(error)) {
      case 'data':
        // Validation should have refused this value: log it to close the gap, answer the client 400.
        this.logger.warn({ message: 'the store refused a value', operation, error: String(error) });
        return new ValidationFailed(
          [{ path: bodyPointer(), message: 'contains a value the store cannot hold' }],
          'The request contains a value the store cannot hold.',
        );
      case 'contention':
        return new Unavailable('The write collided with a concurrent one; retry it.', 1);
      case 'dependency': // handled above (isStoreFailure)
      case 'internal':
        return error; // a bug of ours: the problem filter logs it and answers 500
    }
  }
}
