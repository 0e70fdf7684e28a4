import { performance } from 'node:perf_hooks';
import { ConcurrencyLimit } from './gradient-limit';

/** Why the edge refused a request (the `reason` label of admission_rejected_total). */
export const ADMISSION_REJECT_REASONS = ['limit'] as const;
export type AdmissionRejectReason = (typeof ADMISSION_REJECT_REASONS)[number];

/** The event loop as the controller sees it; a fake one drives the unit tests. */
export interface LoopClock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Milliseconds the loop has spent waiting for I/O, in all (eventLoopUtilization's `idle`). */
  idleMs(): number;
  /** Runs `fn` once the loop has run the callbacks of its current turn (setImmediate). */
  afterTurn(fn: () => void): void;
}

export const NODE_LOOP: LoopClock = {
  now: () => performance.now(),
  idleMs: () => performance.eventLoopUtilization().idle,
  afterTurn: (fn) => void setImmediate(fn),
};

/** What one window ended with; the metrics module turns it into the admission_* series. */
export interface AdmissionReport {
  limit: number;
  inflight: number;
  /** The window's signal (ms); null when no request arrived. */
  delayMs: number | null;
  /** Refusals since the previous report. */
  rejected: number;
}

/** How often the limit is updated. */
export const ADMISSION_WINDOW_MS = 100;

/**
 * Windows in a row in which the loop never waited for I/O and requests kept arriving, before its queue
 * counts as standing: a burst that arrives at once (twenty writes on the embedded store keep the loop busy
 * for 150 to 300 ms) is worked off, not refused.
 */
export const STANDING_WINDOWS = 3;

/** A request's delay is never taken as longer than this (a loop busy with other work for seconds). */
const MAX_DELAY_SAMPLE_MS = 1_000;

/**
 * Admission for a single-threaded server. The limit bounds the requests the loop starts in one turn (one
 * pass over the sockets that have data): a cache hit starts and finishes within its turn, and every
 * request admitted in a turn runs before the loop looks at new arrivals again. So the limit bounds how
 * long new arrivals wait for the CPU. Requests parked on I/O take no CPU while they wait; bounding them is
 * the bulkhead's work (one per instance, in every resource controller's interceptor).
 *
 * The signal is the event-loop delay each request met: the length of the loop iteration that served it,
 * from the end of the previous iteration, or from the loop's waking if it waited idle in between (then the
 * request arrived while it waited). Per window its mean, weighted by requests, feeds the limit, together
 * with whether the queue is standing: for STANDING_WINDOWS windows the loop has not once waited for I/O
 * and requests kept arriving.
 */
export class AdmissionController {
  private running = 0;
  private startedThisTurn = 0;
  private turnOpen = false;
  private turnStart = 0;
  private arrivalsThisTurn = 0;
  private lastTurnEnd = 0;
  private idleAtLastTurnEnd = -1;
  private idleAtWindowStart: number;
  private windowStart: number;
  private busyWindows = 0;
  private delaySum = 0;
  private delayCount = 0;
  private turnsWithArrivals = 0;
  private peak = 0;
  private refused = 0;
  private lastDelayMs: number | null = null;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly limiter: ConcurrencyLimit,
    private readonly report: (report: AdmissionReport) => void = () => undefined,
    private readonly loop: LoopClock = NODE_LOOP,
  ) {
    this.idleAtWindowStart = loop.idleMs();
    this.windowStart = loop.now();
  }

  get limit(): number {
    return this.limiter.value;
  }

  /** Admitted requests whose responses are not done yet. */
  get inflight(): number {
    return this.running;
  }

  /** The last window's mean delay (ms), null if nobody arrived in it. */
  get delayMs(): number | null {
    return this.lastDelayMs;
  }

  /** Counts one arrival; true if it may run (then call release() once its response is done). */
  tryAcquire(): boolean {
    if (!this.turnOpen) this.openTurn();
    this.arrivalsThisTurn++;
    if (this.startedThisTurn >= this.limiter.value) {
      this.refused++;
      return false;
    }
    this.running++;
    if (++this.startedThisTurn > this.peak) this.peak = this.startedThisTurn;
    return true;
  }

  /** An admitted request's response is done. */
  readonly release = (): void => {
    this.running--;
  };

  /** Closes a window: feeds the limit with what the window saw and reports. */
  closeWindow(): void {
    const delayMs = this.delayCount > 0 ? this.delaySum / this.delayCount : null;
    const idle = this.loop.idleMs();
    const now = this.loop.now();
    // A window counts towards a standing queue if the loop never waited in it and requests kept coming:
    // a burst that arrives at once and keeps the loop busy afterwards does not.
    this.busyWindows = idle === this.idleAtWindowStart && this.delayCount > 0 ? this.busyWindows + 1 : 0;
    this.limiter.update({
      delayMs,
      peakPerTurn: this.peak,
      arrivalsPerTurn: this.turnsWithArrivals > 0 ? this.delayCount / this.turnsWithArrivals : 0,
      // Busy for long enough to rule out a burst; or busy while already refusing: overload goes on.
      standing: this.busyWindows >= STANDING_WINDOWS || (this.busyWindows > 0 && this.refused > 0),
      idleShare: Math.min(1, (idle - this.idleAtWindowStart) / Math.max(now - this.windowStart, 1e-3)),
    });
    this.lastDelayMs = delayMs;
    this.report({ limit: this.limiter.value, inflight: this.running, delayMs, rejected: this.refused });
    this.idleAtWindowStart = idle;
    this.windowStart = now;
    this.delaySum = 0;
    this.delayCount = 0;
    this.turnsWithArrivals = 0;
    this.refused = 0;
    this.peak = 0;
  }

  /** Closes a window every `windowMs` (the timer does not keep the process alive). */
  start(windowMs: number): void {
    this.stop();
    this.timer = setInterval(() => this.closeWindow(), windowMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  onModuleDestroy(): void {
    this.stop();
  }

  private openTurn(): void {
    this.turnOpen = true;
    this.turnStart = this.loop.now();
    this.loop.afterTurn(this.closeTurn);
  }

  private readonly closeTurn = (): void => {
    const now = this.loop.now();
    const idle = this.loop.idleMs();
    const wokeIdle = idle !== this.idleAtLastTurnEnd;
    const delay = Math.min(MAX_DELAY_SAMPLE_MS, now - (wokeIdle ? this.turnStart : this.lastTurnEnd));
    this.delaySum += delay * this.arrivalsThisTurn;
    this.delayCount += this.arrivalsThisTurn;
    this.turnsWithArrivals++;
    this.turnOpen = false;
    this.arrivalsThisTurn = 0;
    this.startedThisTurn = 0;
    this.lastTurnEnd = now;
    this.idleAtLastTurnEnd = idle;
  };
}
