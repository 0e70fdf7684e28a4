import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The real binaries the monitoring suites run (Debian: prometheus, prometheus-redis-exporter, docker-compose). */
export const TOOLS = {
  promtool: ['promtool'],
  prometheus: ['prometheus'],
  redisExporter: ['prometheus-redis-exporter', 'redis_exporter'],
  dockerCompose: ['docker-compose'],
} as const;
export type Tool = keyof typeof TOOLS;

const APT_PACKAGES: Record<Tool, string> = {
  promtool: 'prometheus',
  prometheus: 'prometheus',
  redisExporter: 'prometheus-redis-exporter',
  dockerCompose: 'docker-compose',
};

/** The absolute path of the first of `names` found on PATH, or undefined. */
function which(names: readonly string[]): string | undefined {
  for (const name of names) {
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      if (!dir) continue;
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/**
 * The paths of the tools a suite needs. When one is missing: with CI=true this throws (the suite fails
 * loudly); otherwise it emits a warning and returns undefined, and the caller does not declare the suite.
 */
export function requireTools<T extends Tool>(tools: T[], suite: string): Record<T, string> | undefined {
  const found: Partial<Record<T, string>> = {};
  const missing: T[] = [];
  for (const tool of tools) {
    const path = which(TOOLS[tool]);
    if (path) found[tool] = path;
    else missing.push(tool);
  }
  if (missing.length === 0) return found as Record<T, string>;
  const packages = [...new Set(missing.map((t) => APT_PACKAGES[t]))].join(' ');
  const message =
    `${suite}: ${missing.map((t) => TOOLS[t].join(' or ')).join(', ')} not on PATH ` +
    `(apt-get install -y ${packages}; .ci/run installs them)`;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${message}`);
  // Both: Jest shows console output from its workers, Node's warning reaches a run in band.
  console.warn(`${message}: not run`);
  process.emitWarning(`${message}: not run`);
  return undefined;
}

export interface ToolRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion, bounded in time. */
export function runTool(
  path: string,
  args: string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): ToolRun {
  const result = spawnSync(path, args, {
    cwd: options.cwd,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    env: { ...process.env },
  });
  return {
    status: result.status,
    stdout: result.stdout ?? '',
    stderr: `${result.stderr ?? ''}${result.error ? String(result.error) : ''}`,
  };
}
