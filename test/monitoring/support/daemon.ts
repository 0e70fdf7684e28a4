import { ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** A long-running binary of the test's own (Prometheus, redis_exporter): started, awaited, stopped. */
export class Daemon {
  private readonly output: string[] = [];
  private readonly exited: Promise<number | string>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString());
      if (this.output.length > 200) this.output.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
    );
  }

  /**
   * Spawns `path args` and polls `readyUrl` until it answers 2xx (and `ready(body)` holds, if given),
   * within `timeoutMs`; on failure the process is killed and the error carries its output.
   */
  static async start(
    name: string,
    path: string,
    args: string[],
    readyUrl: string,
    options: { timeoutMs?: number; ready?: (body: string) => boolean } = {},
  ): Promise<Daemon> {
    const daemon = new Daemon(name, spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    while (Date.now() < deadline) {
      if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) break;
      try {
        const res = await fetch(readyUrl, { signal: AbortSignal.timeout(1000) });
        const body = await res.text();
        if (res.ok && (options.ready?.(body) ?? true)) return daemon;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    await daemon.stop();
    throw new Error(`${name} was not ready at ${readyUrl}: ${daemon.log()}`);
  }

  /** The last lines it printed. */
  log(): string {
    return this.output.join('').slice(-4000);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
