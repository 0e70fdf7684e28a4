import { parseArgs } from 'node:util';

/** What both transfer CLIs take: the service, a token, a branch. */
export interface TransferArgs {
  url: string;
  token: string;
  branch: string;
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
}

export function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** --url (default http://127.0.0.1:8090), --token or OMS_TOKEN, --branch (default main), and `extra`. */
export function transferArgs(
  usage: string,
  extra: Record<string, { type: 'string' | 'boolean' }> = {},
): TransferArgs {
  const { values, positionals } = parseArgs({
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      branch: { type: 'string' },
      'progress-interval': { type: 'string' },
      ...extra,
    },
    allowPositionals: true,
    strict: true,
  });
  const token = values.token ?? process.env.OMS_TOKEN;
  if (!token)
    fail(`${usage}\n(a token: --token or the OMS_TOKEN variable; get one from POST /api/v1/auth/login)`);
  return {
    url: (values.url ?? 'http://127.0.0.1:8090').replace(/\/+$/, ''),
    token,
    branch: values.branch ?? 'main',
    positionals,
    values,
  };
}

/** A problem+json answer as lines for a person: title, detail, and the first errors with their lines. */
export function describeProblem(status: number, text: string): string {
  try {
    const problem = JSON.parse(text) as {
      title?: string;
      detail?: string;
      errors?: { line?: number; path: string; message: string }[];
    };
    const lines = [`${status} ${problem.title ?? ''}: ${problem.detail ?? ''}`];
    for (const e of (problem.errors ?? []).slice(0, 20))
      lines.push(`  ${e.line !== undefined ? `line ${e.line}: ` : ''}${e.path || '(item)'} ${e.message}`);
    const more = (problem.errors?.length ?? 0) - 20;
    if (more > 0) lines.push(`  … and ${more} more`);
    return lines.join('\n');
  } catch {
    return `${status}: ${text.slice(0, 500)}`;
  }
}
