/**
 * Bulk import and export through HTTP, against the built service in production mode: for each size
 * (BENCH_BULK_SIZES, default 100000), an NDJSON import of that many documents as one commit, then the
 * export of the same; seconds, documents/s, the service's CPU per document and its peak RSS growth. On
 * PostgreSQL (DATABASE_URL), the anchor: COPY of the same rows into a plain table on the same server.
 * Writes bench/results/bulk-latest.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { countLines } from '../apps/oms/src/cli/progress';
import { processCpuMs } from './lib/load';
import { Service, startService } from './lib/service';

export interface Row {
  name: string;
  docs: number;
  seconds: number;
  docsPerSec: number;
  cpuMsPerDoc?: number;
  peakRssMb?: number;
}

const SIZES = (process.env.BENCH_BULK_SIZES ?? '100000').split(',').map(Number);
const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}m` : `${n / 1_000}k`);

function item(i: number): string {
  return JSON.stringify({
    op: 'create',
    objectType: 'Item',
    id: `item-${String(i).padStart(8, '0')}`,
    properties: { n: i, name: `Item number ${i}`, tag: `t${i % 100}`, price: (i % 1000) / 8 },
  });
}

/** The lines of an import, produced as they are sent (never the whole file in memory). */
function* chunks(docs: number): Generator<Buffer> {
  for (let at = 0; at < docs; at += 1_000) {
    const lines: string[] = [];
    for (let i = at; i < Math.min(docs, at + 1_000); i++) lines.push(item(i));
    yield Buffer.from(lines.join('\n') + '\n');
  }
}

/** Resident memory of a process now and at its peak (VmHWM), in MB. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/**
 * One step against the service, measured: its seconds, documents per second, the service's CPU per document
 * (from /proc, as every bench scenario) and its peak RSS growth.
 */
async function step(s: Service, name: string, docs: number, run: () => Promise<void>): Promise<Row> {
  const rssBefore = memory(s.pid).rss;
  const cpuBefore = processCpuMs(s.pid);
  const started = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    name: `${name}-${label(docs)}`,
    docs,
    seconds: round(seconds),
    docsPerSec: Math.round(docs / seconds),
    cpuMsPerDoc: round((processCpuMs(s.pid) - cpuBefore) / docs, 4),
    peakRssMb: Math.round(memory(s.pid).peak - rssBefore),
  };
}

const importRun = (s: Service, docs: number) =>
  step(s, 'bulk-import', docs, async () => {
    const res = await fetch(`${s.url}/api/v1/documents/bulk`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/x-ndjson' },
      body: Readable.toWeb(Readable.from(chunks(docs))),
      duplex: 'half',
    });
    const answer = (await res.json()) as { created?: number };
    if (res.status !== 200 || answer.created !== docs)
      throw new Error(`import of ${docs}: ${res.status} ${JSON.stringify(answer).slice(0, 300)}`);
  });

const exportRun = (s: Service, docs: number) =>
  step(s, 'export', docs, async () => {
    const res = await fetch(`${s.url}/api/v1/documents/export?objectType=Item`, {
      headers: { authorization: `Bearer ${s.token}` },
    });
    let lines = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) lines += countLines(chunk);
    if (lines !== docs) throw new Error(`export: ${lines} lines, ${docs} expected`);
  });

/** The anchor: the same rows COPY'd into a plain table (id, body jsonb) on the same PostgreSQL. */
async function copyRun(databaseUrl: string, docs: number): Promise<Row> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('CREATE TEMP TABLE copy_rows (id text PRIMARY KEY, body jsonb NOT NULL)');
    const started = process.hrtime.bigint();
    const rows = function* () {
      for (let at = 0; at < docs; at += 1_000) {
        const lines: string[] = [];
        for (let i = at; i < Math.min(docs, at + 1_000); i++) {
          const { id, properties } = JSON.parse(item(i)) as { id: string; properties: unknown };
          // COPY's text format: tab-separated, backslashes doubled.
          lines.push(`${id}\t${JSON.stringify(properties).replace(/\\/g, '\\\\')}`);
        }
        yield `${lines.join('\n')}\n`;
      }
    };
    await pipeline(Readable.from(rows()), client.query(copyFrom('COPY copy_rows (id, body) FROM STDIN')));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return {
      name: `copy-rows-${label(docs)}`,
      docs,
      seconds: round(seconds),
      docsPerSec: Math.round(docs / seconds),
    };
  } finally {
    await client.end();
  }
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Import and export of each size on a fresh service, and COPY on PostgreSQL: one row per step. */
export async function bulkRows(
  sizes: number[],
  log: (line: string) => void = () => undefined,
): Promise<Row[]> {
  const rows: Row[] = [];
  for (const docs of sizes) {
    const s = await startService({ ADMISSION_MODE: 'off', BULK_BODY_LIMIT: '1gb' });
    try {
      const type = {
        name: 'Item',
        properties: [
          { name: 'n', dataType: 'integer' },
          { name: 'name', dataType: 'string' },
          { name: 'tag', dataType: 'string' },
          { name: 'price', dataType: 'decimal' },
        ],
      };
      const created = await fetch(`${s.url}/api/v1/schemas/main/object-types`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(type),
      });
      if (created.status !== 201) throw new Error(`type: ${created.status} ${await created.text()}`);
      rows.push(await importRun(s, docs));
      log(JSON.stringify(rows[rows.length - 1]));
      rows.push(await exportRun(s, docs));
      log(JSON.stringify(rows[rows.length - 1]));
    } finally {
      await s.stop();
    }
    if (process.env.DATABASE_URL) {
      rows.push(await copyRun(process.env.DATABASE_URL, docs));
      log(JSON.stringify(rows[rows.length - 1]));
    }
  }
  return rows;
}

async function main(): Promise<void> {
  const store = process.env.DATABASE_URL ? 'postgres' : 'pglite';
  const rows = await bulkRows(SIZES, (line) => console.error(line));
  const result = { run: new Date().toISOString(), store, rows };
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(join(__dirname, 'results', 'bulk-latest.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(
    `| name | docs | seconds | docs/s | CPU ms/doc | peak RSS growth MB |\n| --- | --- | --- | --- | --- | --- |`,
  );
  for (const r of rows)
    console.log(
      `| ${r.name} | ${r.docs} | ${r.seconds} | ${r.docsPerSec} | ${r.cpuMsPerDoc ?? ''} | ${r.peakRssMb ?? ''} |`,
    );
}

if (require.main === module) {
  void main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
