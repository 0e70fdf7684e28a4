import { once } from 'node:events';
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { countLines, progress } from './progress';
import { describeProblem, fail, transferArgs } from './transfer-args';

const USAGE =
  'usage: npm run -s export -- [--branch B] [--type T] [--at COMMIT|TAG] [--url URL] [--token T] [--output FILE | > FILE]';

/**
 * Streams GET /api/v1/documents/export (NDJSON, one consistent state) to stdout or --output FILE, with
 * progress on stderr. What it writes imports as is (npm run import). With --output, the file appears only
 * once the export is complete. (`npm run` prints its banner on stdout: `-s` keeps it out of a redirect.)
 */
async function main(): Promise<void> {
  const args = transferArgs(USAGE, {
    type: { type: 'string' },
    at: { type: 'string' },
    output: { type: 'string' },
  });
  const output = args.values.output as string | undefined;
  const query = new URLSearchParams({ branch: args.branch });
  if (args.values.type) query.set('objectType', args.values.type as string);
  if (args.values.at) query.set('at', args.values.at as string);
  let res: Response;
  try {
    res = await fetch(`${args.url}/api/v1/documents/export?${query.toString()}`, {
      headers: { authorization: `Bearer ${args.token}` },
    });
  } catch (error) {
    fail(`cannot reach ${args.url}: ${String((error as Error).cause ?? error)}`);
  }
  if (!res.ok || !res.body) fail(describeProblem(res.status, await res.text()));
  const total = Number(res.headers.get('x-total-count') ?? 0);
  const bar = progress({
    stream: process.stderr,
    intervalMs: Number(args.values['progress-interval'] ?? 2_000),
  });
  bar.start(total);
  const partial = output && `${output}.partial`;
  const sink = partial ? createWriteStream(partial) : process.stdout;
  let rows = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      rows += countLines(chunk);
      bar.update(rows, rows);
      if (!sink.write(chunk)) await once(sink, 'drain');
    }
  } catch (error) {
    bar.stop();
    if (partial) rmSync(partial, { force: true });
    fail(`the export broke off after ${rows} of ${total} documents: ${String(error)}`);
  }
  bar.stop();
  if (rows !== total) {
    if (partial) rmSync(partial, { force: true });
    fail(`the export ended after ${rows} of ${total} documents`);
  }
  if (partial) {
    sink.end();
    await once(sink, 'finish');
    renameSync(partial, output);
  }
}

void main().catch((error: unknown) => fail(String(error)));
