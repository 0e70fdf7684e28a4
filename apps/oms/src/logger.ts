import { ConsoleLogger, LogLevel as NestLogLevel } from '@nestjs/common';
import { LogLevel } from '@oms/config';
import { inspect } from 'node:util';

const LEVELS: Record<LogLevel, NestLogLevel[]> = {
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

/** The level a line says, by the Nest method that wrote it: only LOG_LEVEL's four names ever appear. */
const LEVEL_NAMES: Record<NestLogLevel, LogLevel> = {
  fatal: 'error',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'debug',
};

/** Keys every line has (or may have) of its own; a caller's field of the same name is kept as `_<name>`. */
const RESERVED = new Set(['level', 'pid', 'timestamp', 'context', 'message', 'stack']);

export interface LogEntry {
  message: string;
  /** Written beside `message`, as top-level keys of the line. */
  fields: Record<string, unknown>;
  /** An Error's stack, when an Error was logged. */
  stack?: string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function asJson(value: unknown): string {
  try {
    return (
      JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value)
    );
  } catch {
    return inspect(value, { depth: 5, breakLength: Infinity, compact: true }); // circular
  }
}

/**
 * What a logger was given, as a line's `message` (always a string) and the fields beside it:
 * - a string is the message;
 * - a plain object `{ message | msg, ...fields }` (a string `message` first, else a string `msg`) gives that
 *   string as the message and its other keys as fields; with neither, a string `event` is the message and
 *   every key (event included) a field; with none of the three, the message is the object's JSON and there
 *   are no fields (nothing is written twice);
 * - an Error gives its message, `error` (its name) and its stack;
 * - a function is called for the message (Nest's lazy messages), a class gives its name;
 * - anything else is written as text (`String`, or `util.inspect` for arrays and other objects).
 */
export function toLogEntry(value: unknown): LogEntry {
  if (typeof value === 'string') return { message: value, fields: {} };
  if (typeof value === 'function') {
    const fn = value as (() => unknown) & { name: string };
    return Function.prototype.toString.call(fn).startsWith('class ')
      ? { message: fn.name, fields: {} }
      : toLogEntry(fn());
  }
  if (value instanceof Error) {
    return { message: value.message || value.name, fields: { error: value.name }, stack: value.stack };
  }
  if (isPlainObject(value)) {
    const { message, msg, ...rest } = value;
    if (typeof message === 'string') return { message, fields: msg === undefined ? rest : { msg, ...rest } };
    if (typeof msg === 'string')
      return { message: msg, fields: message === undefined ? rest : { message, ...rest } };
    if (typeof value.event === 'string') return { message: value.event, fields: value };
    return { message: asJson(value), fields: {} };
  }
  if (typeof value === 'object' && value !== null) {
    return { message: inspect(value, { depth: 5, breakLength: Infinity, compact: true }), fields: {} };
  }
  return { message: String(value), fields: {} };
}

/**
 * Nest's ConsoleLogger in JSON mode, one line per event, shaped for log pipelines:
 * `{"level":"info","pid":…,"timestamp":…,"context":"HTTP","message":"request","status":200,…}` — `level` is
 * one of error, warn, info, debug (Nest's log → info, verbose → debug, fatal → error); `message` is always a
 * string, and the fields of an object message sit beside it (see toLogEntry). Error lines go to stderr,
 * the rest to stdout.
 */
export class JsonLineLogger extends ConsoleLogger {
  protected override printAsJson(
    message: unknown,
    options: {
      context: string;
      logLevel: NestLogLevel;
      writeStreamType?: 'stdout' | 'stderr';
      errorStack?: unknown;
    },
  ): void {
    const level = LEVEL_NAMES[options.logLevel] ?? 'info';
    const entry = toLogEntry(message);
    const line: Record<string, unknown> = { level, pid: process.pid, timestamp: Date.now() };
    if (options.context) line.context = options.context;
    line.message = entry.message;
    for (const [key, value] of Object.entries(entry.fields))
      line[RESERVED.has(key) ? `_${key}` : key] = value;
    const stack = options.errorStack ?? entry.stack;
    if (stack !== undefined) line.stack = stack;
    const stream = level === 'error' ? 'stderr' : (options.writeStreamType ?? 'stdout');
    process[stream].write(`${this.stringifyJsonLogObject(line)}\n`);
  }
}

/** One JSON line per event, at LOG_LEVEL. */
export function createLogger(level: LogLevel): ConsoleLogger {
  return new JsonLineLogger({ json: true, logLevels: LEVELS[level], colors: false });
}
