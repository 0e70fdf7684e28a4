/**
 * npm run bench:store — the versioned store on PGlite (always) and PostgreSQL (when DATABASE_URL is set):
 * single-commit insert rate and batched insert rate (both through the store's write path), get-by-id
 * p50/p99 and list-page p99 at BENCH_DOCS documents, and branch creation time at 1k vs BENCH_DOCS documents
 * (they should be close: branching copies nothing). Past the first documents written through the store,
 * the bench fills up to BENCH_DOCS with set-based SQL that writes the same rows (commits, versions, heads),
 * so the read figures at 100k do not wait minutes for the load. Writes bench/results/store-latest.json.
 *
 * Version control (the `versionControl` figures), on the same store:
 * - compare(main, feature, three-dot) and a diverged merge (take-theirs) with Δ = 100 documents changed on the
 *   feature branch and 10 on main, at 10k documents and at BENCH_DOCS documents (goal: ratio ≤ 1.5), and at
 *   BENCH_DOCS with Δ = 100 vs Δ = 1,000 (goal: at most linear, ≤ 10). Each merge runs inside the store's
 *   transaction, which is then rolled back by throwing from the merge function once it is done, so main stays
 *   as it was and the merge can be repeated. The merge function is the tests' takeTheirs (three gets per
 *   candidate), and again with its reads batched (getMany per state, as the service's merge reads);
 * - history of one document (3 versions) on a branch with 10 commits of its own, then with 10,000 (9,990
 *   added with set-based SQL: commits that each write another document) (goal: flat);
 * - a get and a list page read at an older commit of main (readAt, by id and by tag) against the same at
 *   main's head (goal: within 2×).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { MergeWriter, OpenedStore, SqlClient, openStore } from '@oms/store';

const TOTAL = Number(process.env.BENCH_DOCS ?? 100_000);
const SMALL = 1_000;
const BATCH = 1_000;
/** The smaller data size of the compare/merge scaling figures (the larger is TOTAL). */
const MID = Math.min(10_000, TOTAL);
/**
 * Repetitions of each compare and merge (their p50 is reported), after one unmeasured warm-up: more for the
 * cheap ones (the machine's noise is what they fight), 7 for the slow merges of Δ = 1,000.
 */
const COMPARE_REPS = 21;
const MERGE_REPS = (delta: number) => (delta > 100 ? 7 : 15);
const MAIN_CHANGES = 10;
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
  /** One page of a document's inverse links (its 10 referrers), at 1k documents and at TOTAL. */
  inverseLinksP99MsAt1k: number;
  inverseLinksP99MsAtTotal: number;
  inverseLinksP50MsAt1k: number;
  inverseLinksP50MsAtTotal: number;
  /** Goal: ≤ 1.5 (an index look-up: flat in the number of documents). */
  inverseLinksP99TotalVs1k: number;
  /** A list page filtered by a property 1 % of the documents have (age = 37), at TOTAL. */
  filteredListPageP50Ms: number;
  filteredListPageP99Ms: number;
  documents: number;
  versionControl: VersionControl;
  runtimeSeconds: number;
}

interface VersionControl {
  /** compare(main, feature, 'three-dot') and a diverged take-theirs merge, Δ = 100 (+10 on main). */
  compareP50MsAtMid: number;
  compareP50MsAtTotal: number;
  compareTotalVsMid: number;
  mergeP50MsAtMid: number;
  mergeP50MsAtTotal: number;
  mergeTotalVsMid: number;
  /** At TOTAL documents: Δ = 1,000 against Δ = 100. */
  compareP50MsDelta1000: number;
  compareDelta1000VsDelta100: number;
  mergeP50MsDelta1000: number;
  mergeDelta1000VsDelta100: number;
  /** The same merges with the merge function's reads batched (getMany per state), as the service does. */
  mergeBatchedP50MsAtMid: number;
  mergeBatchedP50MsAtTotal: number;
  mergeBatchedTotalVsMid: number;
  mergeBatchedP50MsDelta1000: number;
  mergeBatchedDelta1000VsDelta100: number;
  /** history(branch, 'document', id, 50) of a document with 3 versions. */
  historyP50MsAt10Commits: number;
  historyP50MsAt10kCommits: number;
  history10kVs10: number;
  /** At TOTAL documents, a commit of main from when it had MID documents. */
  headGetP50Ms: number;
  readAtGetP50Ms: number;
  readAtGetVsHead: number;
  readAtTagGetP50Ms: number;
  headListPageP50Ms: number;
  readAtListPageP50Ms: number;
  readAtListPageVsHead: number;
  /** Documents at the smaller size, and the commits the history branches had of their own. */
  midDocuments: number;
  historyOwnCommits: [number, number];
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  const value = sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  if (value === undefined) throw new Error(`no p${p}: no timings were measured`);
  return value;
};
const round = (n: number) => Math.round(n * 1000) / 1000;
const id = (i: number) => `doc-${String(i).padStart(7, '0')}`;
/** Each document refers to document ⌊i / 10⌋ (`boss`): every one of the first tenth has 10 referrers. */
const body = (i: number) => ({
  name: `person ${i}`,
  age: i % 100,
  email: `p${i}@example.org`,
  boss: id(Math.floor(Math.abs(i) / REFERRERS)),
});
const REFERRERS = 10;

/**
 * One page of a document's inverse links, as GET /documents/crud/{id}/links/{inverseName} reads it: the
 * documents whose reference names it, by JSON containment (the body index), in id order.
 */
const inverseLinksPage = (
  r: Parameters<Parameters<OpenedStore['versioned']['read']>[1]>[0],
  target: string,
) => r.list('document', { objectType: 'Person', contains: { boss: target }, sort: 'id', limit: 51 });

/** Times inverse-link pages of random documents among the first `documents / REFERRERS` (10 referrers each). */
async function inverseLinks(store: OpenedStore, documents: number): Promise<number[]> {
  return timeEach(2_000, async () => {
    const target = id(Math.floor(Math.random() * (documents / REFERRERS)));
    const page = await store.versioned.read('main', (r) => inverseLinksPage(r, target));
    if (page.length !== REFERRERS)
      throw new Error(`${target} has ${page.length} referrers, not ${REFERRERS}`);
  });
}

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
      const commitId = randomBytes(20).toString('hex');
      const [commit] = await tx.query<{ seq: string; created_at: Date }>(
        `INSERT INTO commits (id, branch_id, parents, author, message) VALUES ($1, $2, $3, 'bench', 'bench fill')
         RETURNING seq, created_at`,
        [commitId, main.id, [main.head_commit]],
      );
      if (!commit) throw new Error(`fill: INSERT INTO commits returned no row for ${commitId}`);
      const rows = `SELECT $1::bigint, 'document', 'doc-' || lpad(i::text, 7, '0'), $2::bigint, false, 'Person',
          jsonb_build_object('name', 'person ' || i, 'age', i % 100, 'email', 'p' || i || '@example.org',
            'boss', 'doc-' || lpad((i / ${REFERRERS})::text, 7, '0')),
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

/** A merge that takes the source's value wherever the source changed something (as in the store's tests). */
async function takeTheirs(w: MergeWriter) {
  let written = 0;
  const candidates = w.states.candidates.length;
  if (w.relation === 'fast-forward') await w.fastForward();
  if (w.relation !== 'diverged') return { relation: w.relation, candidates, written };
  for (const { kind, id: entity } of w.states.candidates) {
    const [base, theirs] = [await w.states.base.get(kind, entity), await w.states.theirs.get(kind, entity)];
    if (isDeepStrictEqual(base?.body, theirs?.body)) continue;
    if (isDeepStrictEqual((await w.get(kind, entity))?.body, theirs?.body)) continue;
    if (theirs) await w.put(kind, entity, { objectType: theirs.objectType, body: theirs.body });
    else if (await w.get(kind, entity)) await w.remove(kind, entity);
    written++;
  }
  return { relation: w.relation, candidates, written };
}

/**
 * takeTheirs batched as the service's merge does it: one getMany per state and kind instead of three gets per
 * candidate, and the writes in one writeMany (what is left is the store's own cost).
 */
async function takeTheirsBatched(w: MergeWriter) {
  let written = 0;
  const candidates = w.states.candidates.length;
  if (w.relation !== 'diverged') return takeTheirs(w);
  for (const kind of ['type', 'document'] as const) {
    const ids = w.states.candidates.filter((c) => c.kind === kind).map((c) => c.id);
    const base = await w.states.base.getMany(kind, ids);
    const theirs = await w.states.theirs.getMany(kind, ids);
    const shown = await w.getMany(kind, ids);
    const writes: Parameters<MergeWriter['writeMany']>[1] = [];
    for (const entity of ids) {
      const [was, wanted] = [base.get(entity), theirs.get(entity)];
      if (isDeepStrictEqual(was?.body, wanted?.body)) continue;
      if (isDeepStrictEqual(shown.get(entity)?.body, wanted?.body)) continue;
      writes.push({
        id: entity,
        value: wanted ? { objectType: wanted.objectType, body: wanted.body } : null,
      });
    }
    await w.writeMany(kind, writes);
    written += writes.length;
  }
  return { relation: w.relation, candidates, written };
}

class RollBack extends Error {}

/**
 * The merge inside its transaction, rolled back once the merge function is done: the target is left
 * unchanged. Left out: what the store does after the function (the merge commit's row, when no put opened it,
 * its view segments and the head update: a few single-row statements whatever the sizes).
 */
async function mergeRolledBack(store: OpenedStore, target: string, source: string, how = takeTheirs) {
  let outcome: Awaited<ReturnType<typeof takeTheirs>> | undefined;
  try {
    await store.versioned.merge(
      target,
      source,
      { author: 'bench', message: `Merge ${source}` },
      async (w) => {
        outcome = await how(w);
        throw new RollBack();
      },
    );
  } catch (error) {
    if (!(error instanceof RollBack)) throw error;
  }
  if (!outcome) throw new Error(`merge of ${source} into ${target} never ran its function`);
  return outcome;
}

/** `count` documents spread over [0, docs), skipping those in `taken`. */
function spread(count: number, docs: number, taken = new Set<string>()): string[] {
  const out: string[] = [];
  for (let k = 0; out.length < count; k++) {
    const candidate = id((Math.floor((k * docs) / count) + Math.floor(k / count)) % docs);
    if (!taken.has(candidate) && !out.includes(candidate)) out.push(candidate);
    if (k > 10 * count) throw new Error(`spread: cannot pick ${count} of ${docs} documents`);
  }
  return out;
}

/** Changes these documents on the branch through the store, 100 per commit. */
async function change(store: OpenedStore, branch: string, ids: string[]): Promise<void> {
  for (let start = 0; start < ids.length; start += 100) {
    await store.versioned.write(branch, author, async (w) => {
      for (const doc of ids.slice(start, start + 100)) {
        // The same boss: every document keeps its place in the inverse-link figures.
        const boss = id(Math.floor(Number(doc.slice('doc-'.length)) / REFERRERS));
        await w.put('document', doc, {
          objectType: 'Person',
          body: { name: `${branch} ${doc}`, age: 1, boss },
        });
      }
    });
  }
}

/** A feature branch from main with `delta` changed documents (main then changes others itself). */
async function feature(store: OpenedStore, name: string, delta: number, docs: number): Promise<Set<string>> {
  await store.versioned.createBranch(name, 'main', 'bench');
  const ids = spread(delta, docs);
  await change(store, name, ids);
  return new Set(ids);
}

interface CompareMerge {
  compareP50: number;
  mergeP50: number;
  mergeBatchedP50: number;
}

/** p50 of compare(main, branch, three-dot) and of the rolled-back merge, checking they see what was done. */
async function compareAndMerge(store: OpenedStore, branch: string, delta: number): Promise<CompareMerge> {
  const { versioned } = store;
  const compared = await versioned.compare('main', branch, 'three-dot');
  if (compared.changes.length !== delta)
    throw new Error(`compare main...${branch}: ${compared.changes.length} changes, expected ${delta}`);
  const compares = await timeEach(COMPARE_REPS, () => versioned.compare('main', branch, 'three-dot'));
  // Every candidate is read three ways; each of the feature's changes is written onto main (main's reads
  // do not go through the feature's rows), and main's own changes stay.
  const expected = { relation: 'diverged', candidates: delta + MAIN_CHANGES, written: delta };
  for (const how of [takeTheirs, takeTheirsBatched]) {
    const merged = await mergeRolledBack(store, 'main', branch, how);
    if (!isDeepStrictEqual(merged, expected))
      throw new Error(`merge of ${branch}: ${JSON.stringify(merged)}, expected ${JSON.stringify(expected)}`);
  }
  const merges = await timeEach(MERGE_REPS(delta), () => mergeRolledBack(store, 'main', branch));
  const batched = await timeEach(MERGE_REPS(delta), () =>
    mergeRolledBack(store, 'main', branch, takeTheirsBatched),
  );
  return {
    compareP50: percentile(compares, 50),
    mergeP50: percentile(merges, 50),
    mergeBatchedP50: percentile(batched, 50),
  };
}

/**
 * `count` commits on the branch, set-based: each writes one new document (versions and heads rows), with
 * ids of the store's form and each the parent of the next.
 */
async function addCommits(client: SqlClient, branch: string, count: number): Promise<void> {
  await client.transaction(async (tx) => {
    const [row] = await tx.query<{ id: string; head_seq: string; head_commit: string }>(
      `SELECT id, head_seq, head_commit FROM branches WHERE name = $1 AND deleted_at IS NULL FOR UPDATE`,
      [branch],
    );
    if (!row) throw new Error(`addCommits: no live branch ${branch}`);
    const salt = randomBytes(8).toString('hex');
    const commitId = (i: string) => `md5($3 || (${i})::text) || left(md5('p' || $3 || (${i})::text), 8)`;
    await tx.query(
      `INSERT INTO commits (id, branch_id, parents, author, message)
       SELECT ${commitId('i')}, $1::bigint,
              ARRAY[CASE WHEN i = 1 THEN $2::text ELSE ${commitId('i - 1')} END], 'bench', 'bench commit ' || i
         FROM generate_series(1, $4::int) AS i ORDER BY i`,
      [row.id, row.head_commit, salt, count],
    );
    const rows = `SELECT c.branch_id, 'document', 'other-' || c.seq, c.seq, false, 'Person',
        jsonb_build_object('name', 'other ' || c.seq), c.created_at, 'bench', c.created_at, 'bench'
      FROM commits c WHERE c.branch_id = $1::bigint AND c.seq > $2::bigint`;
    const columns =
      'branch_id, kind, entity_id, seq, deleted, object_type, body, created_at, created_by, updated_at, updated_by';
    await tx.query(`INSERT INTO versions (${columns}) ${rows}`, [row.id, row.head_seq]);
    await tx.query(`INSERT INTO heads (${columns}) ${rows}`, [row.id, row.head_seq]);
    await tx.query(
      `UPDATE branches b SET head_seq = c.seq, head_commit = c.id
         FROM (SELECT seq, id FROM commits WHERE branch_id = $1::bigint ORDER BY seq DESC LIMIT 1) c
        WHERE b.id = $1::bigint`,
      [row.id],
    );
  });
  await client.query('ANALYZE');
}

async function ownCommits(client: SqlClient, branch: string): Promise<number> {
  const [row] = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM commits c JOIN branches b ON b.id = c.branch_id
      WHERE b.name = $1 AND b.deleted_at IS NULL`,
    [branch],
  );
  return Number(row?.n ?? 0);
}

/** History of one document with 3 versions, on a branch with 10 commits of its own and then 10,000. */
async function historyFigures(
  store: OpenedStore,
): Promise<{ at10: number; at10k: number; own: [number, number] }> {
  const { versioned } = store;
  await versioned.createBranch('history', 'main', 'bench');
  for (let c = 1; c <= 10; c++) {
    const doc = c === 1 || c === 5 || c === 10 ? 'history-doc' : `history-other-${c}`;
    await versioned.write('history', author, (w) =>
      w.put('document', doc, { objectType: 'Person', body: { name: `version ${c}` } }),
    );
  }
  const measure = async () => {
    const entries = await versioned.history('history', 'document', 'history-doc', 50);
    if (entries.length !== 3) throw new Error(`history-doc has ${entries.length} versions, expected 3`);
    return percentile(
      await timeEach(300, () => versioned.history('history', 'document', 'history-doc', 50)),
      50,
    );
  };
  const small = await ownCommits(store.client, 'history');
  const at10 = await measure();
  await addCommits(store.client, 'history', 10_000 - small);
  const large = await ownCommits(store.client, 'history');
  const at10k = await measure();
  return { at10, at10k, own: [small, large] };
}

/** Alternates a and b, `count` times each: both see the same cache and load. */
async function timePairs(
  count: number,
  a: (i: number) => Promise<unknown>,
  b: (i: number) => Promise<unknown>,
): Promise<[number[], number[]]> {
  const [ta, tb]: [number[], number[]] = [[], []];
  for (let i = 0; i < count; i++) {
    for (const [fn, times] of [
      [a, ta],
      [b, tb],
    ] as const) {
      const started = performance.now();
      await fn(i);
      times.push(performance.now() - started);
    }
  }
  return [ta, tb];
}

async function branchCreation(store: OpenedStore, label: string): Promise<number> {
  const times = await timeEach(30, (i) => store.versioned.createBranch(`${label}-${i}`, 'main', 'bench'));
  return percentile(times, 50);
}

async function run(name: string, store: OpenedStore): Promise<Result> {
  const started = performance.now();
  const stage = (what: string): void => {
    process.stderr.write(`[${name}] ${((performance.now() - started) / 1000).toFixed(1)} s: ${what}\n`);
  };
  const { versioned } = store;
  stage(`single-document commits`);
  const singles = await timeEach(1_000, (i) =>
    versioned.write('main', author, (w) => w.put('document', id(i), { objectType: 'Person', body: body(i) })),
  );
  const singleInsertsPerSec = 1000 / (singles.reduce((a, b) => a + b, 0) / singles.length);
  const branchCreateMsAt1k = await branchCreation(store, 'small');
  stage(`inverse links at ${SMALL} documents`);
  const linksAt1k = await inverseLinks(store, SMALL);

  stage(`batched writes, then fill to ${MID}`);
  const bulkLoadDocsPerSec = await writeBatches(store, SMALL, SMALL + 5 * BATCH);
  await fill(store.client, SMALL + 5 * BATCH, MID);
  // A commit of main from when it had MID documents: what the reads at a commit read.
  const older = (await versioned.getBranch('main'))?.head;
  if (!older) throw new Error('main has no head');
  await versioned.createTag('bench-mid', older, 'bench', `main at ${MID} documents`);

  stage(`compare and merge at ${MID} documents`);
  const midTaken = await feature(store, 'vc-mid-100', 100, MID);
  await change(store, 'main', spread(MAIN_CHANGES, MID, midTaken));
  const atMid = await compareAndMerge(store, 'vc-mid-100', 100);

  stage(`fill to ${TOTAL}`);
  await fill(store.client, MID, TOTAL);
  const branchCreateMsAtTotal = await branchCreation(store, 'large');

  stage(`reads`);
  const linksAtTotal = await inverseLinks(store, TOTAL);
  // A property filter that 1 % of the documents match (age = 37), a page of 50 from a random position.
  const filteredPages = await timeEach(500, () =>
    versioned.read('main', (r) =>
      r.list('document', {
        objectType: 'Person',
        contains: { age: 37 },
        limit: 50,
        after: { id: id(Math.floor(Math.random() * TOTAL)) },
      }),
    ),
  );
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

  stage(`compare and merge at ${TOTAL} documents, Δ = 100 and 1,000`);
  const taken100 = await feature(store, 'vc-total-100', 100, TOTAL);
  const taken1000 = await feature(store, 'vc-total-1000', 1_000, TOTAL);
  await change(store, 'main', spread(MAIN_CHANGES, TOTAL, new Set([...taken100, ...taken1000])));
  const atTotal = await compareAndMerge(store, 'vc-total-100', 100);
  const delta1000 = await compareAndMerge(store, 'vc-total-1000', 1_000);

  stage(`reads at a commit`);
  // Documents main had at the older commit, so both reads find them.
  const pick = () => id(Math.floor(Math.random() * MID));
  const [headGets, atGets] = await timePairs(
    1_000,
    () => versioned.read('main', (r) => r.get('document', pick())),
    () => versioned.readAt('main', older, (r) => r.get('document', pick())),
  );
  const tagGets = await timeEach(1_000, () =>
    versioned.readAt('main', 'bench-mid', (r) => r.get('document', pick())),
  );
  const page = (r: Parameters<Parameters<typeof versioned.read>[1]>[0]) =>
    r.list('document', { objectType: 'Person', limit: 50, after: { id: pick() } });
  const [headPages, atPages] = await timePairs(
    300,
    () => versioned.read('main', page),
    () => versioned.readAt('main', older, page),
  );
  const atPage = await versioned.readAt('main', older, (r) =>
    r.list('document', { objectType: 'Person', limit: 50, after: { id: id(0) } }),
  );
  if (atPage.length !== 50) throw new Error(`a page at the older commit has ${atPage.length} documents`);

  stage(`history`);
  const history = await historyFigures(store);

  const p50 = (values: number[]) => round(percentile(values, 50));
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  const vc = {
    compareP50MsAtMid: round(atMid.compareP50),
    compareP50MsAtTotal: round(atTotal.compareP50),
    compareTotalVsMid: ratio(atTotal.compareP50, atMid.compareP50),
    mergeP50MsAtMid: round(atMid.mergeP50),
    mergeP50MsAtTotal: round(atTotal.mergeP50),
    mergeTotalVsMid: ratio(atTotal.mergeP50, atMid.mergeP50),
    compareP50MsDelta1000: round(delta1000.compareP50),
    compareDelta1000VsDelta100: ratio(delta1000.compareP50, atTotal.compareP50),
    mergeP50MsDelta1000: round(delta1000.mergeP50),
    mergeDelta1000VsDelta100: ratio(delta1000.mergeP50, atTotal.mergeP50),
    mergeBatchedP50MsAtMid: round(atMid.mergeBatchedP50),
    mergeBatchedP50MsAtTotal: round(atTotal.mergeBatchedP50),
    mergeBatchedTotalVsMid: ratio(atTotal.mergeBatchedP50, atMid.mergeBatchedP50),
    mergeBatchedP50MsDelta1000: round(delta1000.mergeBatchedP50),
    mergeBatchedDelta1000VsDelta100: ratio(delta1000.mergeBatchedP50, atTotal.mergeBatchedP50),
    historyP50MsAt10Commits: round(history.at10),
    historyP50MsAt10kCommits: round(history.at10k),
    history10kVs10: ratio(history.at10k, history.at10),
    headGetP50Ms: p50(headGets),
    readAtGetP50Ms: p50(atGets),
    readAtGetVsHead: ratio(percentile(atGets, 50), percentile(headGets, 50)),
    readAtTagGetP50Ms: p50(tagGets),
    headListPageP50Ms: p50(headPages),
    readAtListPageP50Ms: p50(atPages),
    readAtListPageVsHead: ratio(percentile(atPages, 50), percentile(headPages, 50)),
    midDocuments: MID,
    historyOwnCommits: history.own,
  } satisfies VersionControl;
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
    inverseLinksP99MsAt1k: round(percentile(linksAt1k, 99)),
    inverseLinksP99MsAtTotal: round(percentile(linksAtTotal, 99)),
    inverseLinksP50MsAt1k: p50(linksAt1k),
    inverseLinksP50MsAtTotal: p50(linksAtTotal),
    inverseLinksP99TotalVs1k: ratio(percentile(linksAtTotal, 99), percentile(linksAt1k, 99)),
    filteredListPageP50Ms: p50(filteredPages),
    filteredListPageP99Ms: round(percentile(filteredPages, 99)),
    versionControl: vc,
    runtimeSeconds: Math.round((performance.now() - started) / 100) / 10,
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

/** The goals of the version-control figures: [label, value, limit]. */
function goals(r: Result): [string, number, number][] {
  const vc = r.versionControl;
  return [
    [`compare Δ100 at ${TOTAL} / at ${vc.midDocuments} docs`, vc.compareTotalVsMid, 1.5],
    [`merge Δ100 at ${TOTAL} / at ${vc.midDocuments} docs`, vc.mergeTotalVsMid, 1.5],
    [`compare Δ1000 / Δ100 at ${TOTAL} docs`, vc.compareDelta1000VsDelta100, 10],
    [`merge Δ1000 / Δ100 at ${TOTAL} docs`, vc.mergeDelta1000VsDelta100, 10],
    [`merge (batched reads) Δ100 at ${TOTAL} / at ${vc.midDocuments} docs`, vc.mergeBatchedTotalVsMid, 1.5],
    [`merge (batched reads) Δ1000 / Δ100 at ${TOTAL} docs`, vc.mergeBatchedDelta1000VsDelta100, 10],
    [
      `history at ${vc.historyOwnCommits[1]} / ${vc.historyOwnCommits[0]} own commits`,
      vc.history10kVs10,
      1.5,
    ],
    [`inverse links p99 at ${TOTAL} / at ${SMALL} docs`, r.inverseLinksP99TotalVs1k, 1.5],
    ['get at a commit / at head', vc.readAtGetVsHead, 2],
    ['list page at a commit / at head', vc.readAtListPageVsHead, 2],
  ];
}

async function main(): Promise<void> {
  const started = performance.now();
  const results = [await withPglite()];
  if (process.env.DATABASE_URL) results.push(await withPostgres(process.env.DATABASE_URL));
  console.table(results.map(({ versionControl: _, ...flat }) => flat));
  // Version-control figures: one row per figure, one column per store.
  const figures = Object.keys(results[0]?.versionControl ?? {}) as (keyof VersionControl)[];
  console.table(
    Object.fromEntries(
      figures.map((figure) => [
        figure,
        Object.fromEntries(
          results.map((r) => {
            const value = r.versionControl[figure];
            return [r.store, Array.isArray(value) ? value.join(' → ') : value];
          }),
        ),
      ]),
    ),
  );
  for (const r of results) {
    console.log(
      `${r.store}: branch creation at ${TOTAL} docs / at ${SMALL} docs = ${(r.branchCreateMsAtTotal / r.branchCreateMsAt1k).toFixed(2)}`,
    );
    for (const [label, value, limit] of goals(r)) {
      console.log(`${r.store}: ${label} = ${value} (goal ≤ ${limit}: ${value <= limit ? 'met' : 'MISSED'})`);
    }
    console.log(`${r.store}: ${r.runtimeSeconds} s`);
  }
  console.log(`total: ${Math.round((performance.now() - started) / 1000)} s`);
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(join(__dirname, 'results', 'store-latest.json'), `${JSON.stringify(results, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
