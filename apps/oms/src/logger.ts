import { ConsoleLogger, LogLevel as NestLogLevel } from '@nestjs/common';
import { LogLevel } from '@oms/config';

const LEVELS: Record<LogLevel, NestLogLevel[]> = {
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

/** One JSON line per event, at LOG_LEVEL. */
export function createLogger(level: LogLevel): ConsoleLogger {
  return new ConsoleLogger({ json: true, logLevels: LEVELS[level], colors: false });
}
