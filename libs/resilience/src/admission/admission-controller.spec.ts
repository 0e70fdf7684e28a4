import { AdmissionController, AdmissionReport, LoopClock } from './admission-controller';
import { ConcurrencyLimit, FixedLimit, GradientLimit } from './gradient-limit';

/**
 * A fake event loop: time moves only when the test says so, the loop is idle only when the test says so,
 * and `endTurn()` runs what the controller asked to run after the turn (its setImmediate).
 */
class FakeLoop implements LoopClock {
  time = 0;
  idle = 0;
  private after: (() => void)[] = [];
  now = () => this.time;
  idleMs = () => this.idle;
  afterTurn = (fn: () => void) => void this.after.push(fn);
  /** The loop waits idle for `ms`, then wakes. */
  sleep(ms: number): void {
    this.time += ms;
    this.idle += ms;
  }
  /** The loop works for `ms` without waiting. */
  work(ms: number): void {
    this.time += ms;
  }
  endTurn(): void {
    const due = this.after;
    this.after = [];
    for (const fn of due) fn();
  }
}

function setup(limit: ConcurrencyLimit = new GradientLimit({ min: 2, max: 100, toleranceMs: 2 })) {
  const loop = new FakeLoop();
  const reports: AdmissionReport[] = [];
  const admission = new AdmissionController(limit, (r) => reports.push(r), loop);
  /**
   * One loop turn that receives `arrivals` requests, each costing `costMs` of CPU and finishing within the
   * turn when admitted. Returns how many were admitted.
   */
  const turn = (arrivals: number, costMs: number, idleBeforeMs = 0): number => {
    if (idleBeforeMs > 0) loop.sleep(idleBeforeMs);
    let admitted = 0;
    for (let i = 0; i < arrivals; i++) {
      if (admission.tryAcquire()) {
        admitted++;
        loop.work(costMs);
        admission.release();
      } else {
        loop.work(0.01); // a refusal costs a little
      }
    }
    loop.endTurn();
    return admitted;
  };
  return { loop, admission, reports, turn };
}

describe('AdmissionController', () => {
  it('bounds the requests started in one loop turn', () => {
    const { admission, turn } = setup(new FixedLimit(5));
    expect(turn(12, 0.2)).toBe(5);
    expect(turn(12, 0.2)).toBe(5);
    expect(admission.inflight).toBe(0);
  });

  it("counts requests parked on I/O as in flight, without holding the next turn's slots", () => {
    const { admission, loop } = setup(new FixedLimit(2));
    expect([admission.tryAcquire(), admission.tryAcquire(), admission.tryAcquire()]).toEqual([
      true,
      true,
      false,
    ]);
    loop.endTurn();
    expect(admission.inflight).toBe(2);
    expect(admission.tryAcquire()).toBe(true);
    admission.release();
    expect(admission.inflight).toBe(2);
  });

  it("takes a request's delay as its loop iteration: from the waking after idle, else from the last turn", () => {
    const { admission, loop, turn } = setup();
    turn(1, 0.25, 5); // woke idle: 0.25 ms
    expect(admission.delayMs).toBeNull(); // no window closed yet
    admission.closeWindow();
    expect(admission.delayMs).toBeCloseTo(0.25);
    loop.work(3); // busy with other callbacks (timers, store answers) since the last turn
    turn(2, 0.5); // continuously busy: 3 + 2 × 0.5 ms for both
    admission.closeWindow();
    expect(admission.delayMs).toBeCloseTo(4);
  });

  it('shrinks the limit under a standing queue, grows it back when the load stops, within its bounds', () => {
    const { admission, reports, turn } = setup();
    // Light load: one request at a time after idle gaps; the limit stays at the ceiling.
    for (let w = 0; w < 5; w++) {
      for (let i = 0; i < 20; i++) turn(1, 0.2, 4.8);
      admission.closeWindow();
    }
    expect(admission.limit).toBe(100);
    // Overload: the loop never idles and 40 requests wait at every turn, 0.5 ms of CPU each.
    const limits: number[] = [];
    const startedPerTurn: number[] = [];
    for (let w = 0; w < 15; w++) {
      for (let i = 0; i < 20; i++) startedPerTurn.push(turn(40, 0.5));
      admission.closeWindow();
      limits.push(admission.limit);
    }
    expect(limits.slice(0, 2)).toEqual([100, 100]); // not standing yet: it could be a burst
    expect(limits[2]).toBeLessThanOrEqual(10); // from the 40 in use, by three quarters
    expect(Math.min(...limits)).toBeGreaterThanOrEqual(2);
    // It settles where a turn's work is about the target delay (≈ 2.2 ms: 4 or 5 requests of 0.5 ms).
    expect(limits.slice(-5).every((l) => l >= 2 && l <= 8)).toBe(true);
    expect(startedPerTurn.slice(-20).every((n) => n <= 8)).toBe(true);
    expect(reports.at(-1)!.rejected).toBeGreaterThan(0);
    // The load stops: windows without arrivals bring the limit back to its ceiling.
    for (let w = 0; w < 10; w++) admission.closeWindow();
    expect(admission.limit).toBe(100);
  });

  it('does not shrink for bursts that arrive at once, however long the loop stays busy between them', () => {
    const { admission, loop, turn } = setup();
    turn(20, 1, 5); // twenty writes arrive together
    admission.closeWindow();
    for (let batch = 0; batch < 5; batch++) {
      for (let w = 0; w < 3; w++) {
        loop.work(100); // their work on the embedded store keeps the loop busy, and nothing new arrives
        admission.closeWindow();
      }
      turn(20, 1); // the next twenty, before the loop had a moment to wait
      admission.closeWindow();
    }
    expect(admission.limit).toBe(100);
  });

  it('does not shrink for a burst that the loop works off and then idles', () => {
    const { admission, turn } = setup();
    for (let w = 0; w < 5; w++) {
      turn(30, 3, 50); // thirty requests of 3 ms at once (90 ms of work), then the loop waits again
      admission.closeWindow();
    }
    expect(admission.limit).toBe(100);
  });

  it('reports each window: limit, in flight, delay, and refusals since the last report', () => {
    const { admission, reports, turn } = setup(new FixedLimit(2));
    turn(5, 0.1, 1);
    admission.tryAcquire(); // one still running at the window's end
    admission.closeWindow();
    expect(reports).toEqual([{ limit: 2, inflight: 1, delayMs: expect.any(Number), rejected: 3 }]);
    admission.closeWindow();
    expect(reports[1]).toEqual({ limit: 2, inflight: 1, delayMs: null, rejected: 0 });
  });
});
