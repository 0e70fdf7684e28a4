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
 * The monitoring suites that need tools on PATH, by name. Outside CI, jest.config.ts says once per run, in one
 * line each, which of them are left out (toolsNotice); the suites themselves then quietly do not declare them.
 */
export const TOOL_SUITES = {
  'live monitoring stack': ['prometheus', 'redisExporter'],
  'promtool checks': ['promtool'],
  'docker-compose validation': ['dockerCompose'],
} as const satisfies Record<string, readonly Tool[]>;
export type ToolSuite = keyof typeof TOOL_SUITES;
type ToolsOf<S extends ToolSuite> = (typeof TOOL_SUITES)[S][number];

/** Why `suite` cannot run here (which tools are missing, how to install them), or undefined when it can. */
export function toolsNotice(suite: ToolSuite): string | undefined {
  const missing = TOOL_SUITES[suite].filter((tool: Tool) => !which(TOOLS[tool]));
  if (missing.length === 0) return undefined;
  const packages = [...new Set(missing.map((t) => APT_PACKAGES[t]))].join(' ');
  return (
    `${suite}: ${missing.map((t) => TOOLS[t].join(' or ')).join(', ')} not on PATH ` +
    `(apt-get install -y ${packages}; .ci/run installs them)`
  );
}

/**
 * The paths of the tools a suite needs. When one is missing: with CI=true this throws (the suite fails
 * loudly); otherwise it returns undefined and the caller does not declare the suite — jest.config.ts has
 * already said so, once for the run (a notice from here would come once per worker, or not at all).
 */
export function requireTools<S extends ToolSuite>(suite: S): Record<ToolsOf<S>, string> | undefined {
  const notice = toolsNotice(suite);
  if (notice) {
    if (process.env.CI === 'true') throw new Error(`CI=true and ${notice}`);
    return undefined;
  }
  const tools: readonly ToolsOf<S>[] = TOOL_SUITES[suite];
  return Object.fromEntries(tools.map((tool) => [tool, which(TOOLS[tool])!])) as Record<ToolsOf<S>, string>;
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
