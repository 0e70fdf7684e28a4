/** What the admission controller saw over one window. */
export interface AdmissionWindow {
  /** Mean event-loop delay met by the requests that arrived in the window (ms); null when none arrived. */
  delayMs: number | null;
  /** The most requests the loop started in one turn during the window. */
  peakPerTurn: number;
  /** Arrivals per loop turn that had any, on average over the window (admitted and refused). */
  arrivalsPerTurn: number;
  /**
   * Whether the queue is standing: the loop has been busy without once waiting for I/O for some windows
   * (or for this one, while refusing). A burst that the loop works off, going idle after it, is not
   * overload, however long its turns.
   */
  standing: boolean;
  /** The share of the window the loop spent waiting for I/O (0..1): its spare capacity. */
  idleShare: number;
}

export interface GradientOptions {
  min: number;
  max: number;
  /** The delay allowed above the smallest delay seen in calm windows (ms). */
  toleranceMs: number;
  /** Windows after which the smallest delay is learnt afresh (it is the minimum over the last two such spans). */
  minimumSpanWindows?: number;
}

/** A limit the admission controller enforces: adaptive, or fixed. */
export interface ConcurrencyLimit {
  readonly value: number;
  update(window: AdmissionWindow): void;
}

/** ADMISSION_MODE=fixed: the ceiling, always. */
export class FixedLimit implements ConcurrencyLimit {
  constructor(readonly value: number) {}
  update(): void {}
}

const MIN_GRADIENT = 0.25;
const MAX_GRADIENT = 2;
/** With at least this share of the window idle, the limit may grow multiplicatively. */
const SPARE = 0.5;

/**
 * An adaptive limit in the style of Envoy's adaptive concurrency filter and Netflix's Gradient limits:
 * once per window, the gradient is the ratio of the target delay (the smallest delay seen recently, plus a
 * tolerance) to the delay just seen, clamped to [0.25, 2].
 *
 * - Standing queue (the loop never waits): the limit shrinks from what was actually in use (so that an
 *   unused ceiling does not hide overload for several windows), × gradient over the target. It holds at or
 *   under the target (only spare time would show room to grow), and when requests came about one per
 *   turn: then a lower limit could not shorten a turn, the requests are just slow (a burst of writes on
 *   the embedded store arrives that way while the connections open).
 * - Otherwise, over the target: a burst being worked off; the limit holds.
 * - Otherwise, at or under the target: it grows by √limit, or × gradient + √limit while the loop idled for
 *   at least half the window; when nobody arrived, it doubles.
 * - It never leaves [min, max].
 *
 * The smallest delay is learnt only from windows without a standing queue: under sustained overload every
 * window is slow, and learning from those would raise the target window after window.
 */
export class GradientLimit implements ConcurrencyLimit {
  private limit: number;
  private spanMin = Infinity;
  private previousSpanMin = Infinity;
  private windowsInSpan = 0;

  constructor(private readonly options: GradientOptions) {
    if (!(options.min >= 1 && options.max >= options.min))
      throw new RangeError(`limit bounds must satisfy 1 <= min <= max (got ${options.min}, ${options.max})`);
    this.limit = options.max;
  }

  get value(): number {
    return Math.floor(this.limit);
  }

  /** The delay the limit steers towards (ms). */
  get targetMs(): number {
    const minimum = Math.min(this.spanMin, this.previousSpanMin);
    return (Number.isFinite(minimum) ? minimum : 0) + this.options.toleranceMs;
  }

  update(window: AdmissionWindow): void {
    const { min, max } = this.options;
    if (window.delayMs === null) {
      this.limit = Math.min(max, this.limit * MAX_GRADIENT);
      return;
    }
    const gradient = clamp(this.targetMs / Math.max(window.delayMs, 1e-3), MIN_GRADIENT, MAX_GRADIENT);
    if (window.standing) {
      if (window.arrivalsPerTurn >= 2 && gradient < 1)
        this.limit = clamp(Math.min(this.limit, window.peakPerTurn) * gradient, min, max);
    } else {
      if (gradient >= 1) {
        const multiplied = window.idleShare >= SPARE ? this.limit * gradient : this.limit;
        this.limit = clamp(multiplied + Math.sqrt(this.limit), min, max);
      }
      this.learnMinimum(window.delayMs);
    }
  }

  private learnMinimum(delayMs: number): void {
    this.spanMin = Math.min(this.spanMin, delayMs);
    if (++this.windowsInSpan >= (this.options.minimumSpanWindows ?? 100)) {
      this.previousSpanMin = this.spanMin;
      this.spanMin = Infinity;
      this.windowsInSpan = 0;
    }
  }
}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));
