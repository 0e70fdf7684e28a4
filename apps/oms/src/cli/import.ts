import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { countLines, progress } from './progress';
import { describeProblem, fail, transferArgs } from './transfer-args';

const USAGE =
  'usage: npm run import -- FILE [--branch B] [--url URL] [--token T] [--message M] [--dry-run]\n' +
  '  FILE: NDJSON (one item per line) or, ending in .json, a JSON array of items';

/**
 * Streams FILE to POST /api/v1/documents/bulk (one commit, or nothing) with progress on stderr; prints the
 * answer `{commit, created, updated, deleted, unchanged}` as JSON on stdout. Exit 1 on any refusal, with
 * its errors (line by line) on stderr.
 */
async function main(): Promise<void> {
  const args = transferArgs(USAGE, { message: { type: 'string' }, 'dry-run': { type: 'boolean' } });
  const file = args.positionals[0] ?? fail(USAGE);
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    fail(`cannot read ${file}`);
  }
  const bar = progress({
    stream: process.stderr,
    intervalMs: Number(args.values['progress-interval'] ?? 2_000),
  });
  bar.start(size);
  let sent = 0;
  let rows = 0;
  const source = createReadStream(file);
  source.on('data', (chunk: Buffer | string) => {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    sent += bytes.length;
    rows += countLines(bytes);
    bar.update(sent, rows);
  });
  const query = new URLSearchParams({ branch: args.branch });
  if (args.values['dry-run']) query.set('dryRun', 'true');
  const message = args.values.message as string | undefined;
  let res: Response;
  try {
    res = await fetch(`${args.url}/api/v1/documents/bulk?${query.toString()}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${args.token}`,
        'content-type': file.endsWith('.json') ? 'application/json' : 'application/x-ndjson',
        ...(message ? { 'x-commit-message': `UTF-8''${encodeURIComponent(message)}` } : {}),
      },
      body: Readable.toWeb(source),
      duplex: 'half',
    });
  } catch (error) {
    bar.stop();
    fail(`cannot reach ${args.url}: ${String((error as Error).cause ?? error)}`);
  }
  const text = await res.text();
  bar.stop();
  if (!res.ok) fail(describeProblem(res.status, text));
  process.stdout.write(`${text}\n`);
}

void main().catch((error: unknown) => fail(String(error)));
