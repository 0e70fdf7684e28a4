/**
 * Waits until `check` holds, polling every 25 ms, and resolves to how long it took (ms); rejects naming
 * `what` once `withinMs` has passed.
 */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  withinMs: number,
  what = 'the condition',
): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > withinMs) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return performance.now() - started;
}
