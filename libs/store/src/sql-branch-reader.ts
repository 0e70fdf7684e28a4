import { first, one } from '@oms/common';
import { LineageLevel, lineageValues } from './lineage';
import { SqlExecutor } from './sql-client';
import { SqlParams } from './sql-params';
import {
  BranchReader,
  EntityKind,
  EntityRecord,
  ListFilter,
  ListQuery,
  NO_OBSERVER,
  SortOrder,
  StoreObserver,
} from './versioned-store';

export const ENTITY_COLUMNS =
  'entity_id, seq, deleted, object_type, body, created_at, created_by, updated_at, updated_by';

export interface EntityRow {
  entity_id: string;
  seq: string | number;
  deleted: boolean;
  object_type: string | null;
  body: unknown;
  created_at: Date;
  created_by: string;
  updated_at: Date;
  updated_by: string;
}

export function toRecord<B>(row: EntityRow): EntityRecord<B> {
  return {
    id: row.entity_id,
    objectType: row.object_type,
    body: row.body as B,
    version: Number(row.seq),
    createdAt: row.created_at,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

const ORDER: Record<SortOrder, { columns: string[]; direction: 'ASC' | 'DESC' }> = {
  id: { columns: ['entity_id'], direction: 'ASC' },
  '-id': { columns: ['entity_id'], direction: 'DESC' },
  createdAt: { columns: ['created_at', 'entity_id'], direction: 'ASC' },
  '-createdAt': { columns: ['created_at', 'entity_id'], direction: 'DESC' },
};

/**
 * Reads one branch through its lineage. The branch's own level reads `heads`; an ancestor level reads
 * `versions` up to the fork, so later writes on the ancestor stay invisible. The nearest level wins and
 * a tombstone hides what lies below it.
 */
export class SqlBranchReader implements BranchReader {
  constructor(
    protected readonly db: SqlExecutor,
    protected readonly lineage: LineageLevel[],
    protected readonly observer: StoreObserver = NO_OBSERVER,
  ) {}

  protected get branchId(): string {
    return first(this.lineage, 'lineage level').branchId;
  }

  async get<B>(kind: EntityKind, id: string): Promise<EntityRecord<B> | null> {
    const found = await this.getMany<B>(kind, [id]);
    return found.get(id) ?? null;
  }

  async getMany<B>(kind: EntityKind, ids: string[]): Promise<Map<string, EntityRecord<B>>> {
    const result = new Map<string, EntityRecord<B>>();
    if (ids.length > 0) this.observer.read('entity');
    for (const row of await this.visible<EntityRow>(kind, ids, ENTITY_COLUMNS)) {
      if (!row.deleted) result.set(row.entity_id, toRecord<B>(row));
    }
    return result;
  }

  async version(kind: EntityKind, id: string): Promise<number | null> {
    this.observer.read('version');
    const [row] = await this.visible<Pick<EntityRow, 'seq' | 'deleted'>>(
      kind,
      [id],
      'entity_id, seq, deleted',
    );
    return row && !row.deleted ? Number(row.seq) : null;
  }

  /** The visible row of each id: the newest under each level's limit, from the nearest level. */
  private visible<R>(kind: EntityKind, ids: string[], columns: string): Promise<R[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.query<R>(
      `WITH l(branch_id, lim, depth) AS (VALUES ${lineageValues(this.lineage)})
       SELECT r.* FROM unnest($2::text[]) AS ids(id)
       CROSS JOIN LATERAL (${visibleRow('$1', 'ids.id', columns)}) r`,
      [kind, [...new Set(ids)]],
    );
  }

  async list<B>(kind: EntityKind, query: ListQuery): Promise<EntityRecord<B>[]> {
    this.observer.read('list');
    const byId = (query.sort ?? 'id') === 'id' || query.sort === '-id';
    const rows =
      this.lineage.length === 1
        ? await this.listOwn(kind, query)
        : byId
          ? await this.listThroughLineageInIdOrder(kind, query)
          : await this.listThroughLineage(kind, query);
    return rows.map((row) => toRecord<B>(row));
  }

  /** A branch without ancestors: its heads are everything, and the indexes serve the order directly. */
  private listOwn(kind: EntityKind, query: ListQuery): Promise<EntityRow[]> {
    const p = new SqlParams();
    const where = [`h.branch_id = ${p.add(this.branchId)}`, `h.kind = ${p.add(kind)}`, 'NOT h.deleted'];
    where.push(...filters('h', query, p), ...keyset('h', query, p));
    return this.db.query<EntityRow>(
      `SELECT ${ENTITY_COLUMNS} FROM heads h WHERE ${where.join(' AND ')}
        ${orderBy('h', query.sort)} LIMIT ${p.add(query.limit)}`,
      p.values,
    );
  }

  /**
   * In id order, a page is merged from the levels: each level gives its next candidate ids from an ordered
   * index scan (the branch's heads, each ancestor's versions up to its limit), the ids every level has
   * covered are resolved to their visible rows and filtered, and this repeats until the page is full.
   * A page thus costs about the same whatever the number of documents.
   */
  private async listThroughLineageInIdOrder(kind: EntityKind, query: ListQuery): Promise<EntityRow[]> {
    const descending = query.sort === '-id';
    const before = (a: string, b: string) => (descending ? a > b : a < b);
    const batch = Math.max(2 * query.limit, 20);
    const page: EntityRow[] = [];
    let after = query.after?.id;
    for (;;) {
      const levels = await Promise.all(
        this.lineage.map((level, depth) => this.candidates(kind, query, level, depth, after, batch)),
      );
      // Past the last id of a level that was cut short, that level may still hold candidates: stop there.
      let horizon: string | undefined;
      for (const ids of levels) {
        const last = ids[ids.length - 1];
        if (last !== undefined && ids.length === batch && (horizon === undefined || before(last, horizon)))
          horizon = last;
      }
      const window = [...new Set(levels.flat())]
        .filter((id) => horizon === undefined || !before(horizon, id))
        .sort((a, b) => (a === b ? 0 : before(a, b) ? -1 : 1));
      if (window.length === 0) return page;
      page.push(...(await this.resolveInOrder(kind, window, query)));
      if (page.length >= query.limit || horizon === undefined) return page.slice(0, query.limit);
      after = window[window.length - 1];
    }
  }

  /** The next candidate ids of one level, in the page's order. */
  private async candidates(
    kind: EntityKind,
    query: ListQuery,
    level: LineageLevel,
    depth: number,
    after: string | undefined,
    batch: number,
  ): Promise<string[]> {
    const [alias, table] = depth === 0 ? ['h', 'heads'] : ['v', 'versions'];
    const p = new SqlParams();
    const where = [
      `${alias}.branch_id = ${p.add(level.branchId)}`,
      `${alias}.kind = ${p.add(kind)}`,
      `NOT ${alias}.deleted`,
    ];
    if (depth > 0) where.push(`${alias}.seq <= ${p.add(level.limit)}::bigint`);
    where.push(
      ...filters(alias, query, p),
      ...keyset(alias, { ...query, after: after ? { id: after } : undefined }, p),
    );
    const rows = await this.db.query<{ entity_id: string }>(
      `SELECT DISTINCT ${alias}.entity_id FROM ${table} ${alias} WHERE ${where.join(' AND ')}
        ORDER BY ${alias}.entity_id ${query.sort === '-id' ? 'DESC' : 'ASC'} LIMIT ${p.add(batch)}`,
      p.values,
    );
    return rows.map((r) => r.entity_id);
  }

  /** The visible rows of these ids that pass the filters, in the given order. */
  private resolveInOrder(kind: EntityKind, ids: string[], query: ListQuery): Promise<EntityRow[]> {
    const p = new SqlParams();
    const k = p.add(kind);
    const visible = ['NOT r.deleted', ...filters('r', query, p)];
    return this.db.query<EntityRow>(
      `WITH l(branch_id, lim, depth) AS (VALUES ${lineageValues(this.lineage)})
       SELECT r.* FROM unnest(${p.add(ids)}::text[]) WITH ORDINALITY AS c(entity_id, n)
       CROSS JOIN LATERAL (${visibleRow(k, 'c.entity_id')}) r
        WHERE ${visible.join(' AND ')}
        ORDER BY c.n`,
      p.values,
    );
  }

  async count(kind: EntityKind, filter: ListFilter): Promise<number> {
    this.observer.read('list');
    const p = new SqlParams();
    const sql =
      this.lineage.length === 1
        ? `SELECT count(*)::int AS n FROM heads h WHERE ${[
            `h.branch_id = ${p.add(this.branchId)}`,
            `h.kind = ${p.add(kind)}`,
            'NOT h.deleted',
            ...filters('h', filter, p),
          ].join(' AND ')}`
        : `${this.visibleMatches(kind, filter, p)} SELECT count(*)::int AS n FROM matches`;
    return Number(one(await this.db.query<{ n: number }>(sql, p.values), 'count').n);
  }

  private listThroughLineage(kind: EntityKind, query: ListQuery): Promise<EntityRow[]> {
    const p = new SqlParams();
    return this.db.query<EntityRow>(
      `${this.visibleMatches(kind, query, p)}
       SELECT * FROM matches r ${orderBy('r', query.sort)} LIMIT ${p.add(query.limit)}`,
      p.values,
    );
  }

  /**
   * A `WITH … matches AS (…)` of the visible rows that pass the filters (and the keyset, if any).
   * Candidates are entities with any row matching the filters at some level; each is then resolved to
   * its visible row, which must match again. Every visible match is a candidate, so nothing is missed.
   */
  private visibleMatches(
    kind: EntityKind,
    query: ListFilter & Pick<ListQuery, 'sort' | 'after'>,
    p: SqlParams,
  ) {
    const k = p.add(kind);
    const own = [`h.branch_id = ${p.add(this.branchId)}`, `h.kind = ${k}`, 'NOT h.deleted'];
    own.push(...filters('h', query, p), ...keyset('h', query, p));
    const inherited = [`l.depth > 0`, `v.kind = ${k}`, 'NOT v.deleted'];
    inherited.push(...filters('v', query, p), ...keyset('v', query, p));
    const visible = ['NOT r.deleted', ...filters('r', query, p), ...keyset('r', query, p)];
    return `WITH l(branch_id, lim, depth) AS (VALUES ${lineageValues(this.lineage)}),
       cand AS (
         SELECT h.entity_id FROM heads h WHERE ${own.join(' AND ')}
         UNION
         SELECT v.entity_id FROM versions v JOIN l ON v.branch_id = l.branch_id AND v.seq <= l.lim
          WHERE ${inherited.join(' AND ')}
       ),
       matches AS (
         SELECT r.* FROM cand CROSS JOIN LATERAL (${visibleRow(k, 'cand.entity_id')}) r
          WHERE ${visible.join(' AND ')}
       )`;
  }
}

/**
 * The visible row of one entity (`entity`: an SQL expression) through the lineage `l` in scope: the newest
 * row under each level's limit, from the nearest level (a tombstone included; callers drop it).
 */
function visibleRow(kind: string, entity: string, columns = ENTITY_COLUMNS): string {
  return `SELECT x.* FROM l CROSS JOIN LATERAL (
      SELECT ${columns} FROM versions v
       WHERE v.branch_id = l.branch_id AND v.kind = ${kind} AND v.entity_id = ${entity} AND v.seq <= l.lim
       ORDER BY v.seq DESC LIMIT 1) x
    ORDER BY l.depth LIMIT 1`;
}

function filters(alias: string, query: ListFilter, p: SqlParams): string[] {
  const out: string[] = [];
  if (query.objectType !== undefined) out.push(`${alias}.object_type = ${p.add(query.objectType)}`);
  if (query.contains && Object.keys(query.contains).length > 0) {
    out.push(`${alias}.body @> ${p.add(JSON.stringify(query.contains))}::jsonb`);
  }
  return out;
}

function keyset(alias: string, query: Pick<ListQuery, 'sort' | 'after'>, p: SqlParams): string[] {
  if (!query.after) return [];
  const { columns, direction } = ORDER[query.sort ?? 'id'];
  const op = direction === 'ASC' ? '>' : '<';
  if (columns.length === 1) return [`${alias}.entity_id ${op} ${p.add(query.after.id)}`];
  if (!query.after.createdAt) throw new Error('a createdAt position needs createdAt');
  return [
    `(${alias}.created_at, ${alias}.entity_id) ${op} (${p.add(query.after.createdAt.toISOString())}::timestamptz, ${p.add(query.after.id)})`,
  ];
}

function orderBy(alias: string, sort: SortOrder = 'id'): string {
  const { columns, direction } = ORDER[sort];
  return `ORDER BY ${columns.map((c) => `${alias}.${c} ${direction}`).join(', ')}`;
}
