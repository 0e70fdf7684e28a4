import type { AdmissionReport } from './admission/admission-controller';

/** State of a circuit breaker, as exported: 0 closed, 1 open, 2 half-open. */
export type BreakerState = 'closed' | 'open' | 'half-open';
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, open: 1, 'half-open': 2 };

export type ShedReason = 'queue_full' | 'queue_timeout';

/**
 * What the resilience policies report. One implementation (the metrics module) turns these into
 * Prometheus series; the policies log transitions themselves.
 */
export interface ResilienceEvents {
  /** A breaker exists (closed): its series start at zero. */
  breakerCreated(breaker: string): void;
  /** A breaker is gone (a webhook's, with its webhook): its series go too. */
  breakerRemoved(breaker: string): void;
  breakerTransition(breaker: string, to: BreakerState): void;
  breakerRejected(breaker: string): void;
  shed(reason: ShedReason): void;
  /** The bulkhead's running and waiting counts, whenever they change. */
  occupancy(active: number, queued: number): void;
  revalidated(resource: string, notModified: boolean): void;
  /** Edge admission, once per window: its limit, in-flight count, signal and refusals since the last. */
  admission(report: AdmissionReport): void;
}

export const RESILIENCE_EVENTS = Symbol('ResilienceEvents');

/** Used when no metrics module is wired (unit tests, the CLI). */
export const NO_EVENTS: ResilienceEvents = {
  breakerCreated: () => undefined,
  breakerRemoved: () => undefined,
  breakerTransition: () => undefined,
  breakerRejected: () => undefined,
  shed: () => undefined,
  occupancy: () => undefined,
  revalidated: () => undefined,
  admission: () => undefined,
};
