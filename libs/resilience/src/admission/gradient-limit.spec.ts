import { AdmissionWindow, FixedLimit, GradientLimit } from './gradient-limit';

const bounds = { min: 2, max: 200, toleranceMs: 2 };
/** A window in which the loop went idle, most of the time. */
const calm = (delayMs: number, peakPerTurn = 1, idleShare = 0.8): AdmissionWindow => ({
  delayMs,
  peakPerTurn,
  arrivalsPerTurn: peakPerTurn,
  standing: false,
  idleShare,
});
/** A window in which the loop never waited: a standing queue. */
const busy = (delayMs: number, peakPerTurn: number, arrivalsPerTurn = peakPerTurn): AdmissionWindow => ({
  delayMs,
  peakPerTurn,
  arrivalsPerTurn,
  standing: true,
  idleShare: 0,
});
const nobody: AdmissionWindow = {
  delayMs: null,
  peakPerTurn: 0,
  arrivalsPerTurn: 0,
  standing: false,
  idleShare: 1,
};

describe('GradientLimit', () => {
  it('starts at the ceiling', () => {
    expect(new GradientLimit(bounds).value).toBe(200);
  });

  it('refuses bounds that are not 1 <= min <= max', () => {
    expect(() => new GradientLimit({ ...bounds, min: 0 })).toThrow(RangeError);
    expect(() => new GradientLimit({ ...bounds, min: 10, max: 5 })).toThrow(RangeError);
  });

  it('shrinks from what was in use, at most by three quarters per window, under a standing queue', () => {
    const limit = new GradientLimit(bounds);
    limit.update(calm(0.3)); // learns the minimum: target 2.3 ms
    limit.update(busy(20, 120)); // 120 started in one turn; gradient 0.115, clamped to 0.25
    expect(limit.value).toBe(30);
    limit.update(busy(4.6, 30)); // gradient 0.5
    expect(limit.value).toBe(15);
    limit.update(busy(3, 15)); // gradient 2.3 / 3 = 0.77
    expect(limit.value).toBe(11);
  });

  it('holds under a standing queue at the target: it grows only when the loop has spare time', () => {
    const limit = new GradientLimit(bounds);
    limit.update(calm(0.3));
    limit.update(busy(50, 40));
    limit.update(busy(1, 10)); // under the target, but the loop never waits
    expect(limit.value).toBe(10);
  });

  it('grows by √limit alone when the loop has little spare time', () => {
    const limit = new GradientLimit(bounds);
    limit.update(calm(0.3));
    for (let i = 0; i < 10; i++) limit.update(busy(50, 200));
    limit.update(calm(0.5, 2, 0.1)); // far under the target, but idle only a tenth of the window
    expect(limit.value).toBe(3); // 2 + √2
  });

  it('holds when requests came about one per turn: a lower limit could not shorten a turn', () => {
    const limit = new GradientLimit(bounds);
    limit.update(calm(0.3));
    limit.update(busy(15, 2, 1.2)); // slow requests one after another, sometimes two in a turn
    expect(limit.value).toBe(200);
  });

  it('holds through a burst that the loop works off (it went idle in the window)', () => {
    const limit = new GradientLimit(bounds);
    limit.update(calm(0.3));
    limit.update(calm(80, 40)); // twenty writes at once on an embedded store: long turns, then idle
    expect(limit.value).toBe(200);
    limit.update(busy(80, 40));
    expect(limit.value).toBe(10);
    limit.update(calm(80, 10));
    expect(limit.value).toBe(10);
  });

  it('grows back once the delay is under the target, doubling while it is far under', () => {
    const limit = new GradientLimit(bounds);
    limit.update(calm(0.3));
    for (let i = 0; i < 10; i++) limit.update(busy(50, 200));
    expect(limit.value).toBe(2);
    limit.update(calm(0.5)); // gradient 2: 2 × 2 + √2
    expect(limit.value).toBe(5);
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) {
      limit.update(calm(0.5));
      seen.push(limit.value);
    }
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(limit.value).toBe(200);
  });

  it('grows by about √limit when the delay sits at the target', () => {
    const limit = new GradientLimit(bounds);
    limit.update(calm(0.3));
    for (let i = 0; i < 10; i++) limit.update(busy(50, 200));
    for (let i = 0; i < 3; i++) limit.update(calm(0.3 + 2)); // exactly the target: gradient 1
    // 2 → 2 + √2 → 3.41 + √3.41 → 5.26 + √5.26
    expect(limit.value).toBe(7);
  });

  it('never leaves [min, max], whatever it is fed', () => {
    const limit = new GradientLimit({ min: 3, max: 40, toleranceMs: 1 });
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 2000; i++) {
      const r = random();
      limit.update(
        r < 0.1
          ? nobody
          : {
              delayMs: random() * 100,
              peakPerTurn: Math.floor(random() * 500),
              arrivalsPerTurn: random() * 600,
              standing: random() < 0.5,
              idleShare: random(),
            },
      );
      expect(limit.value).toBeGreaterThanOrEqual(3);
      expect(limit.value).toBeLessThanOrEqual(40);
    }
  });

  it('goes back to the ceiling when no request arrives', () => {
    const limit = new GradientLimit(bounds);
    for (let i = 0; i < 10; i++) limit.update(busy(50, 200));
    for (let i = 0; i < 7; i++) limit.update(nobody);
    expect(limit.value).toBe(200);
  });

  it('learns the minimum only from windows without a standing queue, and forgets it after two spans', () => {
    const limit = new GradientLimit({ ...bounds, minimumSpanWindows: 5 });
    limit.update(calm(0.5));
    expect(limit.targetMs).toBeCloseTo(2.5);
    // Sustained overload does not raise the target.
    for (let i = 0; i < 50; i++) limit.update(busy(8, 10));
    expect(limit.targetMs).toBeCloseTo(2.5);
    // Calm windows with a higher floor (heavier requests): after two spans, the target follows them.
    for (let i = 0; i < 10; i++) limit.update(calm(1.5));
    expect(limit.targetMs).toBeCloseTo(3.5);
  });
});

describe('FixedLimit', () => {
  it('is its value whatever the windows say', () => {
    const limit = new FixedLimit(25);
    limit.update();
    expect(limit.value).toBe(25);
  });
});
