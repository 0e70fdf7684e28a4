import { DomainError } from '@oms/common';
import { classifyStoreError } from '@oms/store';
import { DependencyTimeout } from './errors';
import { InjectedFault } from './faults/fault-injector';

/** A raw error the `store` breaker counts: the store failing, never a request's own doing. */
export function isStoreFailure(error: unknown): boolean {
  return (
    error instanceof DependencyTimeout ||
    error instanceof InjectedFault ||
    (!(error instanceof DomainError) && classifyStoreError(error) === 'dependency')
  );
}
