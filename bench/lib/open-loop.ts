import { Socket, connect } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * An open-loop load generator: requests are due on a fixed schedule (rate per second, evenly spaced),
 * whatever the server does, and each one's latency is counted from when it was due, not from when a
 * connection was free to send it (no coordinated omission, as in wrk2). autocannon's `overallRate` sends
 * each connection's quota for a second as fast as it can and then waits: bursts, which measure the burst.
 *
 * Keep-alive HTTP/1.1 over raw sockets, one request at a time per connection, up to `maxConnections`;
 * past that, due requests wait at the client (and that wait counts in their latency). Responses must carry
 * Content-Length (or be bodiless), as every OMS response does.
 */
export interface OpenLoopOptions {
  /** http://host:port */
  url: string;
  rate: number;
  durationSeconds: number;
  /**
   * Seconds at the same rate before the measured ones, not recorded: the server's reaction to the onset
   * of the load (an adaptive limit finding its level) is reported apart from its steady state.
   */
  warmupSeconds?: number;
  /** The bytes of request number i (a complete HTTP/1.1 request). */
  request: (i: number) => Buffer;
  maxConnections?: number;
  /** How long to wait for the last answers after the schedule ends (ms). */
  drainMs?: number;
}

export interface OpenLoopResult {
  due: number;
  /** Status code → count; 0 counts requests that got no answer (connection error, or not back in time). */
  statuses: Record<string, number>;
  /** Latencies (ms, from when each was due) of 2xx/3xx answers, and of 5xx answers. */
  accepted: number[];
  rejected: number[];
  /** The most requests that waited at the client for a connection at once. */
  clientBacklogPeak: number;
  /** Answers to every request sent, the warm-up's included (for figures per request over the whole run). */
  answersIncludingWarmup: number;
  seconds: number;
}

interface Pending {
  dueAt: number;
  bytes: Buffer;
  /** Due during the warm-up: answered, but not recorded. */
  warmup: boolean;
}

class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  current?: Pending;

  constructor(
    readonly socket: Socket,
    private readonly done: (connection: Connection, status: number, pending: Pending) => void,
    private readonly failed: (connection: Connection) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.failed(this));
  }

  send(pending: Pending): void {
    this.current = pending;
    this.socket.write(pending.bytes);
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headEnd = this.buffer.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const head = this.buffer.toString('latin1', 0, headEnd);
      const status = Number(head.slice(9, 12));
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const bodyLength = length ? Number(length[1]) : 0;
      if (!length && status !== 204 && status !== 304 && !/^1/.test(String(status)))
        throw new Error(`response without Content-Length: ${head.split('\r\n')[0]}`);
      const total = headEnd + 4 + bodyLength;
      if (this.buffer.length < total) return;
      this.buffer = this.buffer.subarray(total);
      const pending = this.current;
      this.current = undefined;
      if (pending) this.done(this, status, pending);
    }
  }
}

export function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const target = new URL(options.url);
  const maxConnections = options.maxConnections ?? 512;
  const statuses: Record<string, number> = {};
  const accepted: number[] = [];
  const rejected: number[] = [];
  const idle: Connection[] = [];
  const all = new Set<Connection>();
  const backlog: Pending[] = [];
  let backlogPeak = 0;
  let due = 0;
  let answered = 0;
  let allAnswers = 0;
  let opening = 0;
  const count = (status: number) => (statuses[status] = (statuses[status] ?? 0) + 1);

  const onDone = (connection: Connection, status: number, pending: Pending) => {
    const latency = performance.now() - pending.dueAt;
    const next = backlog.shift();
    if (next) connection.send(next);
    else idle.push(connection);
    allAnswers++;
    if (pending.warmup) return;
    answered++;
    count(status);
    if (status < 400) accepted.push(latency);
    else if (status >= 500) rejected.push(latency);
  };
  const onFailed = (connection: Connection) => {
    if (!all.delete(connection)) return;
    const at = idle.indexOf(connection);
    if (at >= 0) idle.splice(at, 1);
    if (connection.current && !connection.current.warmup) {
      answered++;
      count(0);
    }
  };
  const dispatch = (pending: Pending) => {
    const connection = idle.pop();
    if (connection) return connection.send(pending);
    backlog.push(pending);
    backlogPeak = Math.max(backlogPeak, backlog.length);
    if (all.size + opening < maxConnections) {
      opening++;
      const socket = connect(Number(target.port), target.hostname, () => {
        opening--;
        const fresh = new Connection(socket, onDone, onFailed);
        all.add(fresh);
        const next = backlog.shift();
        if (next) fresh.send(next);
        else idle.push(fresh);
      });
      socket.once('error', () => opening--);
    }
  };

  return new Promise((resolve) => {
    const start = performance.now();
    const measuredFrom = start + (options.warmupSeconds ?? 0) * 1000;
    const end = measuredFrom + options.durationSeconds * 1000;
    const interval = 1000 / options.rate;
    let sent = 0;
    const tick = () => {
      const now = Math.min(performance.now(), end);
      while (start + sent * interval <= now) {
        const dueAt = start + sent * interval;
        const warmup = dueAt < measuredFrom;
        dispatch({ dueAt, warmup, bytes: options.request(sent) });
        sent++;
        if (!warmup) due++;
      }
      if (performance.now() < end) return;
      clearInterval(timer);
      const deadline = performance.now() + (options.drainMs ?? 10_000);
      const drain = setInterval(() => {
        if (answered < due && performance.now() < deadline) return;
        clearInterval(drain);
        statuses['0'] = (statuses['0'] ?? 0) + (due - answered);
        for (const connection of all) connection.socket.destroy();
        resolve({
          due,
          statuses,
          accepted,
          rejected,
          clientBacklogPeak: backlogPeak,
          answersIncludingWarmup: allAnswers,
          seconds: options.durationSeconds,
        });
      }, 20);
    };
    const timer = setInterval(tick, 1);
  });
}

/** The bytes of one keep-alive HTTP/1.1 request. */
export function httpRequest(
  method: string,
  host: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, `host: ${host}`, 'connection: keep-alive'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body !== undefined) {
    lines.push('content-type: application/json', `content-length: ${Buffer.byteLength(body)}`);
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body ?? ''}`);
}
