import { Logger } from '@nestjs/common';
import { createLogger, toLogEntry } from './logger';

/** Every line the logger writes, parsed, with the stream it went to. */
function capture() {
  const lines: { stream: 'stdout' | 'stderr'; raw: string; line: Record<string, unknown> }[] = [];
  const spy = (stream: 'stdout' | 'stderr') =>
    jest.spyOn(process[stream], 'write').mockImplementation((chunk: string | Uint8Array) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      for (const raw of text.split('\n').filter(Boolean)) {
        let line: Record<string, unknown>;
        try {
          line = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          line = { unparsed: raw }; // fails the assertions below, as a line that is not JSON should
        }
        lines.push({ stream, raw, line });
      }
      return true;
    });
  const spies = [spy('stdout'), spy('stderr')];
  return { lines, restore: () => spies.forEach((s) => s.mockRestore()) };
}

describe('the JSON line logger', () => {
  let out: ReturnType<typeof capture>;
  beforeEach(() => (out = capture()));
  afterEach(() => out.restore());

  it("names levels error, warn, info and debug only (Nest's log → info, verbose → debug, fatal → error)", () => {
    const logger = createLogger('debug');
    logger.log('a log', 'Ctx');
    logger.verbose('a verbose', 'Ctx');
    logger.debug('a debug', 'Ctx');
    logger.warn('a warn', 'Ctx');
    logger.error('an error', 'Ctx');
    logger.fatal('a fatal', 'Ctx');
    expect(out.lines.map(({ stream, line }) => [stream, line.level, line.message])).toEqual([
      ['stdout', 'info', 'a log'],
      ['stdout', 'debug', 'a verbose'],
      ['stdout', 'debug', 'a debug'],
      ['stdout', 'warn', 'a warn'],
      ['stderr', 'error', 'an error'],
      ['stderr', 'error', 'a fatal'],
    ]);
    for (const { raw, line } of out.lines) {
      expect(raw).not.toContain('\x1b[');
      expect(line).toMatchObject({ context: 'Ctx', pid: process.pid, timestamp: expect.any(Number) });
    }
  });

  it('keeps to LOG_LEVEL', () => {
    const logger = createLogger('warn');
    logger.log('dropped');
    logger.debug('dropped');
    logger.warn('kept');
    logger.error('kept too');
    expect(out.lines.map(({ line }) => line.level)).toEqual(['warn', 'error']);
  });

  it('writes an object message as a string message with its other keys beside it', () => {
    const logger = createLogger('info');
    logger.log({ message: 'request', requestId: 'r-1', status: 200, durationMs: 1.5 }, 'HTTP');
    logger.warn({ msg: 'from msg', breaker: 'store', to: 'open' });
    expect(out.lines.map(({ line }) => line)).toEqual([
      {
        level: 'info',
        pid: process.pid,
        timestamp: expect.any(Number),
        context: 'HTTP',
        message: 'request',
        requestId: 'r-1',
        status: 200,
        durationMs: 1.5,
      },
      {
        level: 'warn',
        pid: process.pid,
        timestamp: expect.any(Number),
        message: 'from msg',
        breaker: 'store',
        to: 'open',
      },
    ]);
  });

  it('does so for what goes through Nest’s Logger, the way the libraries log', () => {
    Logger.overrideLogger(createLogger('info'));
    new Logger('CircuitBreaker').warn({
      message: 'circuit breaker transition',
      breaker: 'store',
      to: 'open',
    });
    const error = new Error('boom');
    new Logger('Errors').error({ message: 'unhandled error', requestId: 'r-2' }, error.stack);
    expect(out.lines.map(({ stream, line }) => ({ stream, ...line }))).toEqual([
      expect.objectContaining({
        stream: 'stdout',
        level: 'warn',
        context: 'CircuitBreaker',
        message: 'circuit breaker transition',
        breaker: 'store',
        to: 'open',
      }),
      expect.objectContaining({
        stream: 'stderr',
        level: 'error',
        context: 'Errors',
        message: 'unhandled error',
        requestId: 'r-2',
        stack: error.stack,
      }),
    ]);
  });

  it('always writes message as a string, whatever it was given', () => {
    const logger = createLogger('info');
    const error = new TypeError('bad type');
    const given: unknown[] = [
      { event: 'cache.flush', keys: 3 },
      { count: 2, nested: { big: 10n } },
      error,
      42,
      null,
      ['a', 1],
      () => 'lazy',
      { message: 'keeps its own keys', level: 'mine', context: 'theirs' },
    ];
    for (const message of given) logger.log(message);
    const lines = out.lines.map(({ line }) => line);
    for (const line of lines) {
      expect(typeof line.message).toBe('string');
      expect(line.level).toBe('info');
    }
    expect(lines.map((l) => l.message)).toEqual([
      'cache.flush',
      '{"count":2,"nested":{"big":"10"}}',
      'bad type',
      '42',
      'null',
      "[ 'a', 1 ]",
      'lazy',
      'keeps its own keys',
    ]);
    expect(lines[0]).toMatchObject({ event: 'cache.flush', keys: 3 });
    expect(lines[1]).not.toHaveProperty('count'); // written once, as the message
    expect(lines[2]).toMatchObject({ error: 'TypeError', stack: error.stack });
    expect(lines[7]).toMatchObject({ _level: 'mine', _context: 'theirs' });
    expect(lines[7]).not.toHaveProperty('context');
  });
});

describe('toLogEntry', () => {
  it('prefers a string message, then a string msg', () => {
    expect(toLogEntry({ message: 'm', msg: 'x', a: 1 })).toEqual({
      message: 'm',
      fields: { msg: 'x', a: 1 },
    });
    expect(toLogEntry({ message: { not: 'text' }, msg: 'x' })).toEqual({
      message: 'x',
      fields: { message: { not: 'text' } },
    });
  });

  it('survives a circular object', () => {
    const loop: Record<string, unknown> = { a: 1 };
    loop.self = loop;
    expect(toLogEntry(loop).message).toContain('[Circular');
  });
});
