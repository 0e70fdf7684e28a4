/**
 * npm run bench:store — the versioned store on PGlite (always) and PostgreSQL (when DATABASE_URL is set):
 * single-commit insert rate and batched insert rate (both through the store's write path), get-by-id
 * p50/p99 and list-page p99 at BENCH_DOCS documents, and branch creation time at 1k vs BENCH_DOCS documents
 * (they should be close: branching copies nothing). Past the first documents written through the store,
 * the bench fills up to BENCH_DOCS with set-based SQL that writes the same rows (commits, versions, heads),
 * so the read figures at 100k do not wait minutes for the load. Writes bench/results/store-latest.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { OpenedStore, SqlClient, openStore } from '@oms/store';

const TOTAL = Number(process.env.BENCH_DOCS ?? 100_000);
const SMALL = 1_000;
const BATCH = 1_000;
const author = { author: 'bench', message: 'bench' };

interface Result {
  store: string;
  singleInsertsPerSec: number;
  /** Documents per second written through the store, 1,000 per commit. */
  bulkLoadDocsPerSec: number;
  getByIdP50Ms: number;
  getByIdP99Ms: number;
  listPageP50Ms: number;
  listPageP99Ms: number;
  branchListPageP99Ms: number;
  branchCreateMsAt1k: number;
  branchCreateMsAtTotal: number;
  documents: number;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  const value = sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  if (value === undefined) throw new Error(`no p${p}: no timings were measured`);
  return value;
};
const round = (n: number) => Math.round(n * 1000) / 1000;
const id = (i: number) => `doc-${String(i).padStart(7, '0')}`;
const body = (i: number) => ({ name: `person ${i}`, age: i % 100, email: `p${i}@example.org` });

async function timeEach(count: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await fn(i);
    times.push(performance.now() - started);
  }
  return times;
}

/** Documents written through the store, BATCH per commit: the real write path's batched rate. */
async function writeBatches(store: OpenedStore, from: number, to: number): Promise<number> {
  const started = performance.now();
  for (let start = from; start < to; start += BATCH) {
    await store.versioned.write('main', author, async (w) => {
      for (let i = start; i < Math.min(to, start + BATCH); i++) {
        await w.put('document', id(i), { objectType: 'Person', body: body(i) });
      }
    });
  }
  return ((to - from) / (performance.now() - started)) * 1000;
}

/** The same rows the write path makes (a commit per BATCH documents, versions, heads), set-based. */
async function fill(client: SqlClient, from: number, to: number): Promise<void> {
  for (let start = from; start < to; start += 10 * BATCH) {
    const end = Math.min(to, start + 10 * BATCH) - 1;
    await client.transaction(async (tx) => {
      const [main] = await tx.query<{ id: string; head_commit: string }>(
        `SELECT id, head_commit FROM branches WHERE name = 'main' AND deleted_at IS NULL FOR UPDATE`,
      );
      if (!main) throw new Error('fill: the store has no live main branch');
      const commitId = `bench-${start}`;
      const [commit] = await tx.query<{ seq: string; created_at: Date }>(
        `INSERT INTO commits (id, branch_id, parents, author, message) VALUES ($1, $2, $3, 'bench', 'bench fill')
         RETURNING seq, created_at`,
        [commitId, main.id, [main.head_commit]],
      );
      if (!commit) throw new Error(`fill: INSERT INTO commits returned no row for ${commitId}`);
      const rows = `SELECT $1::bigint, 'document', 'doc-' || lpad(i::text, 7, '0'), $2::bigint, false, 'Person',
          jsonb_build_object('name', 'person ' || i, 'age', i % 100, 'email', 'p' || i || '@example.org'),
          $3::timestamptz, 'bench', $3::timestamptz, 'bench'
        FROM generate_series($4::int, $5::int) AS i`;
      const params = [main.id, commit.seq, commit.created_at, start, end];
      const columns =
        'branch_id, kind, entity_id, seq, deleted, object_type, body, created_at, created_by, updated_at, updated_by';
      await tx.query(`INSERT INTO versions (${columns}) ${rows}`, params);
      await tx.query(`INSERT INTO heads (${columns}) ${rows}`, params);
      await tx.query(`UPDATE branches SET head_seq = $1, head_commit = $2 WHERE id = $3`, [
        commit.seq,
        commitId,
        main.id,
      ]);
    });
    process.stderr.write(`  filled ${end + 1} / ${to}\r`);
  }
  process.stderr.write('\n');
  await client.query('ANALYZE');
}

async function branchCreation(store: OpenedStore, label: string): Promise<number> {
  const times = await timeEach(30, (i) => store.versioned.createBranch(`${label}-${i}`, 'main', 'bench'));
  return percentile(times, 50);
}

async function run(name: string, store: OpenedStore): Promise<Result> {
  const { versioned } = store;
  process.stderr.write(`[${name}] single-document commits\n`);
  const singles = await timeEach(1_000, (i) =>
    versioned.write('main', author, (w) => w.put('document', id(i), { objectType: 'Person', body: body(i) })),
  );
  const singleInsertsPerSec = 1000 / (singles.reduce((a, b) => a + b, 0) / singles.length);
  const branchCreateMsAt1k = await branchCreation(store, 'small');

  process.stderr.write(`[${name}] batched writes, then fill to ${TOTAL}\n`);
  const bulkLoadDocsPerSec = await writeBatches(store, SMALL, SMALL + 5 * BATCH);
  await fill(store.client, SMALL + 5 * BATCH, TOTAL);
  const branchCreateMsAtTotal = await branchCreation(store, 'large');

  process.stderr.write(`[${name}] reads\n`);
  const gets = await timeEach(5_000, () =>
    versioned.read('main', (r) => r.get('document', id(Math.floor(Math.random() * TOTAL)))),
  );
  const pages = await timeEach(500, () =>
    versioned.read('main', (r) =>
      r.list('document', {
        objectType: 'Person',
        limit: 50,
        after: { id: id(Math.floor(Math.random() * TOTAL)) },
      }),
    ),
  );
  await versioned.write('large-0', author, (w) =>
    w.put('document', id(7), { objectType: 'Person', body: body(-7) }),
  );
  const branchPages = await timeEach(50, () =>
    versioned.read('large-0', (r) =>
      r.list('document', {
        objectType: 'Person',
        limit: 50,
        after: { id: id(Math.floor(Math.random() * TOTAL)) },
      }),
    ),
  );
  return {
    store: name,
    documents: TOTAL,
    singleInsertsPerSec: Math.round(singleInsertsPerSec),
    bulkLoadDocsPerSec: Math.round(bulkLoadDocsPerSec),
    getByIdP50Ms: round(percentile(gets, 50)),
    getByIdP99Ms: round(percentile(gets, 99)),
    listPageP50Ms: round(percentile(pages, 50)),
    listPageP99Ms: round(percentile(pages, 99)),
    branchListPageP99Ms: round(percentile(branchPages, 99)),
    branchCreateMsAt1k: round(branchCreateMsAt1k),
    branchCreateMsAtTotal: round(branchCreateMsAtTotal),
  };
}

async function withPglite(): Promise<Result> {
  const dataDir = mkdtempSync(join(tmpdir(), 'oms-bench-'));
  const store = await openStore({ dataDir });
  try {
    return await run('pglite', store);
  } finally {
    await store.client.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function withPostgres(serverUrl: string): Promise<Result> {
  const name = `oms_bench_${process.pid}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const store = await openStore({ databaseUrl: url.toString(), dataDir: 'unused' });
  try {
    return await run('postgres', store);
  } finally {
    await store.client.close();
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  }
}

async function main(): Promise<void> {
  const results = [await withPglite()];
  if (process.env.DATABASE_URL) results.push(await withPostgres(process.env.DATABASE_URL));
  console.table(results);
  for (const r of results) {
    console.log(
      `${r.store}: branch creation at ${TOTAL} docs / at ${SMALL} docs = ${(r.branchCreateMsAtTotal / r.branchCreateMsAt1k).toFixed(2)}`,
    );
  }
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(join(__dirname, 'results', 'store-latest.json'), `${JSON.stringify(results, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
