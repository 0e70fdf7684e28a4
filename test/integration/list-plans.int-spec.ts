import {
  ListQuery,
  OpenedStore,
  SortOrder,
  SqlClient,
  SqlExecutor,
  SqlVersionedStore,
  openStore,
} from '@oms/store';
import { storeTargets } from '../support/store-targets';

const DOCS = 2_000;
const SORTS: SortOrder[] = ['id', '-id', 'createdAt', '-createdAt'];

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

/** Every node of a plan, depth first. */
function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/** The SQL a store sends, recorded as it is sent (transactions included). */
function recording(client: SqlClient, sent: { text: string; params?: unknown[] }[]): SqlClient {
  const executor = (db: SqlExecutor): SqlExecutor => ({
    query: (text, params) => {
      sent.push({ text, params });
      return db.query(text, params);
    },
  });
  return {
    kind: client.kind,
    query: executor(client).query,
    transaction: (fn, options) => client.transaction((tx) => fn({ ...executor(tx), exec: tx.exec }), options),
    listen: (channel, onMessage, resumed) => client.listen(channel, onMessage, resumed),
    close: () => client.close(),
  };
}

/**
 * A list page must never read every document of the branch: each query a list sends has an index that
 * serves its filter and its order. Checked on the plans PostgreSQL makes with sequential scans and sorts
 * priced out (enable_seqscan / enable_sort off): a plan that still holds one has no index to do without
 * it — and would read all 100k documents for a page of 50. (A containment filter is a GIN look-up, whose
 * matches may be sorted: their number, not the branch's, bounds that sort.)
 */
describe.each(storeTargets())('list pages are served by indexes on $name', (target) => {
  let opened: OpenedStore;
  let cleanup: () => Promise<void>;
  const sent: { text: string; params?: unknown[] }[] = [];
  let store: SqlVersionedStore;

  beforeAll(async () => {
    const provisioned = await target.provision();
    cleanup = provisioned.cleanup;
    opened = await openStore(provisioned.location);
    store = new SqlVersionedStore(recording(opened.client, sent));
    await store.write('main', { author: 'plans', message: 'seed' }, (w) =>
      w.writeMany(
        'document',
        Array.from({ length: DOCS }, (_, i) => ({
          id: `d-${String(i).padStart(5, '0')}`,
          value: { objectType: i % 2 === 0 ? 'A' : 'B', body: { n: i, tag: `t${i % 10}` } },
        })),
      ),
    );
  });

  beforeAll(async () => {
    await store.createBranch('fork', 'main', 'plans');
    await store.write('fork', { author: 'plans', message: 'fork writes' }, (w) =>
      w.writeMany(
        'document',
        Array.from({ length: 20 }, (_, i) => ({
          id: `d-${String(i * 7).padStart(5, '0')}`,
          value: i % 4 === 0 ? null : { objectType: 'A', body: { n: i, tag: 't4' } },
        })),
      ),
    );
  });

  afterAll(async () => {
    await opened?.client.close();
    await cleanup?.();
  });

  async function plansOf(branch: string, query: ListQuery): Promise<{ sql: string; nodes: PlanNode[] }[]> {
    sent.length = 0;
    const page = await store.read(branch, (r) => r.list('document', query));
    expect(page.length).toBeGreaterThan(0);
    const reads = sent.filter(
      (s) => /^\s*(WITH|SELECT)/i.test(s.text) && /\b(heads|versions)\b/.test(s.text),
    );
    expect(reads.length).toBeGreaterThan(0);
    return opened.client.transaction(async (tx) => {
      await tx.query('SET LOCAL enable_seqscan = off');
      await tx.query('SET LOCAL enable_sort = off');
      const plans = [];
      for (const read of reads) {
        const [row] = await tx.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] | string }>(
          `EXPLAIN (FORMAT JSON) ${read.text}`,
          read.params,
        );
        const explained = row!['QUERY PLAN'];
        const plan = (typeof explained === 'string' ? JSON.parse(explained) : explained) as [
          { Plan: PlanNode },
        ];
        plans.push({ sql: read.text.replace(/\s+/g, ' ').slice(0, 160), nodes: nodes(plan[0].Plan) });
      }
      return plans;
    });
  }

  const cases: { name: string; query: ListQuery; sorted: boolean }[] = SORTS.flatMap((sort) => [
    { name: `sort=${sort}`, query: { sort, limit: 51 }, sorted: false },
    { name: `objectType, sort=${sort}`, query: { objectType: 'A', sort, limit: 51 }, sorted: false },
    {
      name: `objectType, sort=${sort}, after a position`,
      query: {
        objectType: 'B',
        sort,
        limit: 51,
        after: { id: 'd-01001', createdAt: new Date(sort.startsWith('-') ? Date.now() + 86_400_000 : 0) },
      },
      sorted: false,
    },
    // Containment: a GIN look-up; its matches may be sorted.
    {
      name: `property filter, sort=${sort}`,
      query: { objectType: 'A', contains: { tag: 't4' }, sort, limit: 51 },
      sorted: true,
    },
  ]);

  // `fork` reads its own rows (heads) and main's (versions up to the fork): each level has its index.
  const onBranches = ['main', 'fork'].flatMap((branch) => cases.map((c) => ({ ...c, branch })));

  it.each(onBranches)(
    '$branch, $name: no sequential scan, and no sort of the whole branch',
    async ({ branch, query, sorted }) => {
      for (const { sql, nodes: planNodes } of await plansOf(branch, query)) {
        const scans = planNodes.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name']);
        expect({ sql, scans }).toEqual({ sql, scans: [] });
        // Resolving a batch of ids to their visible rows picks, per id, the newest of the view's levels: a
        // sort bounded by the batch and the levels, not by the branch.
        if (!sorted && !/FROM unnest\(/.test(sql)) {
          const sorts = planNodes.filter((n) => /Sort/.test(n['Node Type'])).map((n) => n['Node Type']);
          expect({ sql, sorts }).toEqual({ sql, sorts: [] });
        }
      }
    },
  );
});
