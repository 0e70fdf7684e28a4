import { Logger, LoggerService } from '@nestjs/common';

export type NestLevel = 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';

export interface CapturedLog {
  level: NestLevel;
  /** What the code passed, as it passed it (an object stays an object). */
  message: unknown;
  /** The Logger's context (`new Logger('Store')`), when it has one. */
  context?: string;
}

const LOUD: ReadonlySet<NestLevel> = new Set(['warn', 'error', 'fatal']);

/**
 * For specs of code that logs through Nest's Logger: every line goes into a list instead of the terminal
 * (Nest's default logger would print it, coloured, dated by fake timers). Call it at the top of a describe:
 * before each test the list is emptied and Nest's Logger pointed at it; after each, a warning or error the
 * test did not `take()` fails the test — a warning a test causes is asserted by that test, never printed nor
 * dropped unseen. Info and debug lines are kept for `take()` but not required.
 */
export function captureLogs(): { take(): CapturedLog[] } {
  let entries: CapturedLog[] = [];
  const record =
    (level: NestLevel) =>
    (message: unknown, ...params: unknown[]): void => {
      const last = params[params.length - 1];
      entries.push({ level, message, ...(typeof last === 'string' ? { context: last } : {}) });
    };
  const sink: LoggerService = {
    log: record('log'),
    error: record('error'),
    warn: record('warn'),
    debug: record('debug'),
    verbose: record('verbose'),
    fatal: record('fatal'),
  };
  beforeEach(() => {
    entries = [];
    Logger.overrideLogger(sink);
  });
  afterEach(() => {
    const unasserted = entries.filter((e) => LOUD.has(e.level));
    entries = [];
    if (unasserted.length > 0) {
      throw new Error(
        `the test logged ${unasserted.length} warning(s) or error(s) it did not assert (take() them): ` +
          JSON.stringify(unasserted.slice(0, 5)),
      );
    }
  });
  return {
    take: () => {
      const taken = entries;
      entries = [];
      return taken;
    },
  };
}

/** Matches a captured line that logged `{ message, ...fields }` at `level` from `context`. */
export function logged(
  level: NestLevel,
  context: string,
  message: string,
  fields: Record<string, unknown> = {},
) {
  return { level, context, message: { message, ...fields } };
}
