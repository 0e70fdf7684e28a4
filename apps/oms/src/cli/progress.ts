import { SingleBar } from 'cli-progress';

/** How the transfer CLIs report progress on stderr. */
export interface Progress {
  /** `total`: units of `value` (bytes for an import, rows for an export); 0 when unknown. */
  start(total: number): void;
  update(value: number, rows: number): void;
  stop(): void;
}

export interface ProgressOptions {
  /** Where progress goes (stderr): a bar on a terminal, plain lines otherwise. */
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** Between two plain lines when the stream is not a terminal. */
  intervalMs?: number;
}

/**
 * A progress bar (cli-progress) with rows, rows/s and the ETA: redrawn in place on a terminal, a plain line
 * every `intervalMs` otherwise (logs, CI), and a last line when done.
 */
export function progress(options: ProgressOptions): Progress {
  const started = Date.now();
  const bar = new SingleBar({
    stream: options.stream,
    format: '{bar} {percentage}% | {rows} rows | {speed} rows/s | ETA {eta_formatted}',
    noTTYOutput: true,
    notTTYSchedule: options.intervalMs ?? 2_000,
    hideCursor: false,
    etaBuffer: 50,
    barsize: 30,
  });
  const payload = (rows: number) => {
    const seconds = (Date.now() - started) / 1_000;
    return { rows, speed: seconds > 0 ? Math.round(rows / seconds) : 0 };
  };
  let rows = 0;
  return {
    start(total) {
      bar.start(Math.max(total, 1), 0, payload(0));
    },
    update(value, counted) {
      rows = counted;
      bar.update(value, payload(rows));
    },
    stop() {
      bar.update(bar.getTotal(), payload(rows));
      bar.stop();
    },
  };
}

/** How many lines a chunk of NDJSON ends (its newline bytes): the rows a transfer has moved. */
export function countLines(chunk: Uint8Array): number {
  let lines = 0;
  for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines += 1;
  return lines;
}
