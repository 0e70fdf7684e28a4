import { Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export const FAULT_TARGETS = ['store', 'redis'] as const;
export type FaultTarget = (typeof FAULT_TARGETS)[number];

export interface FaultSpec {
  /** Probability (0..1) that a call fails. */
  errorRate: number;
  /** Added to every call, before it runs. */
  latencyMs: number;
  /** CPU burnt on the event loop in every call, before it runs (a busy loop: nothing else runs meanwhile). */
  cpuMs?: number;
  /** Absent: until removed. */
  durationSeconds?: number;
}

export interface ActiveFault extends FaultSpec {
  target: FaultTarget;
  since: string;
  until: string | null;
  /** Calls the fault has been applied to, and how many it failed. */
  calls: number;
  failures: number;
}

/** Keeps the event loop busy for `ms`: the CPU-bound work a fault stands for. */
function burn(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

/** The error an injected fault raises: a dependency failure, as a real one would be. */
export class InjectedFault extends Error {
  constructor(readonly target: FaultTarget) {
    super(`injected ${target} fault`);
    this.name = 'InjectedFault';
  }
}

/** Faults applied to each call to a dependency (store, redis), for proving the resilience layer. */
@Injectable()
export class FaultInjector {
  private readonly faults = new Map<FaultTarget, ActiveFault & { untilMs: number }>();

  set(target: FaultTarget, spec: FaultSpec): ActiveFault {
    const now = Date.now();
    const untilMs = spec.durationSeconds === undefined ? Infinity : now + spec.durationSeconds * 1000;
    const fault = {
      target,
      errorRate: spec.errorRate,
      latencyMs: spec.latencyMs,
      cpuMs: spec.cpuMs ?? 0,
      durationSeconds: spec.durationSeconds,
      since: new Date(now).toISOString(),
      until: Number.isFinite(untilMs) ? new Date(untilMs).toISOString() : null,
      calls: 0,
      failures: 0,
      untilMs,
    };
    this.faults.set(target, fault);
    return this.view(fault);
  }

  /** Returns whether a fault was active. */
  clear(target: FaultTarget): boolean {
    return this.faults.delete(target);
  }

  list(): ActiveFault[] {
    return FAULT_TARGETS.map((t) => this.active(t))
      .filter((f) => f !== undefined)
      .map((f) => this.view(f));
  }

  /** Applies the target's fault to one call: burns its CPU, waits its latency, then fails at its rate. */
  async apply(target: FaultTarget): Promise<void> {
    const fault = this.active(target);
    if (!fault) return;
    fault.calls++;
    if (fault.cpuMs) burn(fault.cpuMs);
    if (fault.latencyMs > 0) await sleep(fault.latencyMs);
    if (fault.errorRate > 0 && Math.random() < fault.errorRate) {
      fault.failures++;
      throw new InjectedFault(target);
    }
  }

  private active(target: FaultTarget) {
    const fault = this.faults.get(target);
    if (fault && Date.now() >= fault.untilMs) {
      this.faults.delete(target);
      return undefined;
    }
    return fault;
  }

  private view({ untilMs: _, ...fault }: ActiveFault & { untilMs: number }): ActiveFault {
    return { ...fault };
  }
}
