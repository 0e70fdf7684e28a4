import { one } from '@oms/common';
import { ViewSegment, viewValues } from './view';
import { SqlExecutor } from './sql-client';
import { SqlParams } from './sql-params';
import {
  BranchReader,
  EntityKind,
  EntityRecord,
  ListFilter,
  ListPosition,
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
 * Reads one branch (or one commit) through its view. The branch's own live segment reads `heads`; every
 * other segment reads `versions` up to its limit, so later writes there stay invisible. The newest row
 * wins, and a tombstone hides the older ones.
 */
export class SqlBranchReader implements BranchReader {
  constructor(
    protected readonly db: SqlExecutor,
    protected view: ViewSegment[],
    protected readonly observer: StoreObserver = NO_OBSERVER,
  ) {}

  /** The branch's own segment, when this reads a branch's head (not a past commit). */
  private get live(): ViewSegment | undefined {
    return this.view.find((s) => s.limit === null);
  }

  /** A branch that sees only its own rows: its heads are everything. */
  private get ownOnly(): string | undefined {
    return this.view.length === 1 ? this.live?.branchId : undefined;
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

  /** The visible row of each id: the newest row any segment of the view shows. */
  private visible<R>(kind: EntityKind, ids: string[], columns: string): Promise<R[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.query<R>(
      `WITH l(branch_id, lim, live) AS (VALUES ${viewValues(this.view)})
       SELECT r.* FROM unnest($2::text[]) AS ids(id)
       CROSS JOIN LATERAL (${visibleRow('$1', 'ids.id', columns)}) r`,
      [kind, [...new Set(ids)]],
    );
  }

  async list<B>(kind: EntityKind, query: ListQuery): Promise<EntityRecord<B>[]> {
    this.observer.read('list');
    const own = this.ownOnly;
    const rows =
      own !== undefined ? await this.listOwn(own, kind, query) : await this.listThroughView(kind, query);
    return rows.map((row) => toRecord<B>(row));
  }

  /** A branch that sees only its own rows: its heads are everything, and the indexes serve the order directly. */
  private listOwn(branchId: string, kind: EntityKind, query: ListQuery): Promise<EntityRow[]> {
    const p = new SqlParams();
    const where = [`h.branch_id = ${p.add(branchId)}`, `h.kind = ${p.add(kind)}`, 'NOT h.deleted'];
    where.push(...filters('h', query, p), ...keyset('h', query, p));
    return this.db.query<EntityRow>(
      ordered(
        `SELECT ${ENTITY_COLUMNS} FROM heads h WHERE ${where.join(' AND ')}`,
        'h',
        query,
        p.add(query.limit),
      ),
      p.values,
    );
  }

  /**
   * Through a view of several levels, a page is merged from them: each level gives its next candidate keys
   * (id, or creation time and id) from an ordered index scan (the branch's heads, each ancestor's versions
   * up to its limit); up to the horizon (the nearest last key of a level cut short), the candidates' ids are
   * resolved to their visible rows and filtered, and this repeats until the page is full. A page thus costs
   * about the same whatever the number of documents. A visible row is kept only in the window its own key
   * falls in (an entity deleted and created again has other keys in older levels): its level listed it there.
   */
  private async listThroughView(kind: EntityKind, query: ListQuery): Promise<EntityRow[]> {
    const { columns, direction } = ORDER[query.sort ?? 'id'];
    const byTime = columns.length > 1;
    const sign = direction === 'ASC' ? 1 : -1;
    const compare = (a: ListPosition, b: ListPosition) =>
      sign *
      ((byTime ? a.createdAt!.getTime() - b.createdAt!.getTime() : 0) ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    // One segment gives at most one key per candidate entity: a page-sized batch. Several may hide each other.
    const batch = this.view.length === 1 ? query.limit : Math.max(2 * query.limit, 20);
    const page: EntityRow[] = [];
    let after = query.after;
    for (;;) {
      const levels = await Promise.all(
        this.view.map((segment) => this.candidates(kind, { ...query, after }, segment, batch)),
      );
      // Past the last key of a level that was cut short, that level may still hold candidates: stop there.
      let horizon: ListPosition | undefined;
      for (const keys of levels) {
        const last = keys[keys.length - 1];
        if (last && keys.length === batch && (!horizon || compare(last, horizon) < 0)) horizon = last;
      }
      const within = (key: ListPosition) =>
        (!after || compare(key, after) > 0) && (!horizon || compare(key, horizon) <= 0);
      const ids = [
        ...new Set(
          levels
            .flat()
            .filter(within)
            .map((key) => key.id),
        ),
      ];
      if (ids.length === 0) return page;
      const rows = await this.resolve(kind, ids, query);
      const key = (r: EntityRow) => ({ id: r.entity_id, createdAt: r.created_at });
      page.push(...rows.filter((r) => within(key(r))).sort((a, b) => compare(key(a), key(b))));
      if (page.length >= query.limit || !horizon) return page.slice(0, query.limit);
      after = horizon;
    }
  }

  /** The next candidate keys of one level, in the page's order. */
  private async candidates(
    kind: EntityKind,
    query: ListQuery,
    segment: ViewSegment,
    batch: number,
  ): Promise<ListPosition[]> {
    const [alias, table] = segment.limit === null ? ['h', 'heads'] : ['v', 'versions'];
    const p = new SqlParams();
    const where = [
      `${alias}.branch_id = ${p.add(segment.branchId)}`,
      `${alias}.kind = ${p.add(kind)}`,
      `NOT ${alias}.deleted`,
    ];
    if (segment.limit !== null) where.push(`${alias}.seq <= ${p.add(segment.limit)}::bigint`);
    where.push(...filters(alias, query, p), ...keyset(alias, query, p));
    const { columns } = ORDER[query.sort ?? 'id'];
    const rows = await this.db.query<{ entity_id: string; created_at?: Date }>(
      ordered(
        `SELECT DISTINCT ${columns.map((c) => `${alias}.${c}`).join(', ')} FROM ${table} ${alias}
          WHERE ${where.join(' AND ')}`,
        alias,
        query,
        p.add(batch),
      ),
      p.values,
    );
    return rows.map((r) => ({ id: r.entity_id, createdAt: r.created_at }));
  }

  /** The visible rows of these ids that pass the filters. */
  private resolve(kind: EntityKind, ids: string[], query: ListQuery): Promise<EntityRow[]> {
    const p = new SqlParams();
    const k = p.add(kind);
    const visible = ['NOT r.deleted', ...filters('r', query, p)];
    return this.db.query<EntityRow>(
      `WITH l(branch_id, lim, live) AS (VALUES ${viewValues(this.view)})
       SELECT r.* FROM unnest(${p.add(ids)}::text[]) AS c(entity_id)
       CROSS JOIN LATERAL (${visibleRow(k, 'c.entity_id')}) r
        WHERE ${visible.join(' AND ')}`,
      p.values,
    );
  }

  async containing<B>(
    kind: EntityKind,
    objectType: string,
    anyOf: Record<string, unknown>[],
  ): Promise<EntityRecord<B>[]> {
    if (anyOf.length === 0) return [];
    this.observer.read('list');
    // Each probe is one look-up in the GIN index on body, whatever the number of entities: the look-up is a
    // lateral subquery with the containment as its only condition (OFFSET 0 keeps the planner from merging
    // the others into it), so that no estimate (PGlite has no autovacuum to keep statistics) can turn it into
    // a scan of the type's entities per probe.
    const sources = [
      ...(this.live
        ? ['SELECT entity_id, branch_id, kind, object_type, deleted, NULL::bigint AS seq FROM heads']
        : []),
      ...(this.view.some((s) => s.limit !== null)
        ? ['SELECT entity_id, branch_id, kind, object_type, deleted, seq FROM versions']
        : []),
    ];
    const rows = await this.db.query<EntityRow>(
      `WITH l(branch_id, lim, live) AS (VALUES ${viewValues(this.view)}),
            probe AS (SELECT value, n FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS p(value, n)),
            hit AS (
              SELECT probe.n, x.* FROM probe CROSS JOIN LATERAL (
                SELECT * FROM (${sources.map((from) => `${from} WHERE body @> probe.value`).join(' UNION ALL ')}) u
                OFFSET 0
              ) x
            ),
            cand AS (
              SELECT DISTINCT hit.entity_id, hit.n FROM hit JOIN l ON hit.branch_id = l.branch_id
                 AND (CASE WHEN hit.seq IS NULL THEN l.live ELSE NOT l.live AND hit.seq <= l.lim END)
               WHERE hit.kind = $1 AND hit.object_type = $2 AND NOT hit.deleted
            )
       SELECT DISTINCT ON (r.entity_id) r.* FROM cand JOIN probe USING (n)
        CROSS JOIN LATERAL (${visibleRow('$1', 'cand.entity_id')}) r
        WHERE NOT r.deleted AND r.object_type = $2 AND r.body @> probe.value
        ORDER BY r.entity_id`,
      [kind, objectType, JSON.stringify(anyOf)],
    );
    return rows.map((row) => toRecord<B>(row));
  }

  async count(kind: EntityKind, filter: ListFilter): Promise<number> {
    this.observer.read('list');
    const p = new SqlParams();
    const own = this.ownOnly;
    const sql =
      own !== undefined
        ? `SELECT count(*)::int AS n FROM heads h WHERE ${[
            `h.branch_id = ${p.add(own)}`,
            `h.kind = ${p.add(kind)}`,
            'NOT h.deleted',
            ...filters('h', filter, p),
          ].join(' AND ')}`
        : `${this.visibleMatches(kind, filter, p)} SELECT count(*)::int AS n FROM matches`;
    return Number(one(await this.db.query<{ n: number }>(sql, p.values), 'count').n);
  }

  /**
   * A `WITH … matches AS (…)` of the visible rows that pass the filters (for a count).
   * Candidates are entities with any row matching the filters at some level; each is then resolved to
   * its visible row, which must match again. Every visible match is a candidate, so nothing is missed.
   */
  private visibleMatches(kind: EntityKind, query: ListFilter, p: SqlParams) {
    const k = p.add(kind);
    // The live segment (if any) reads heads; `l.branch_id = h.branch_id` is false when there is none.
    const own = [`h.branch_id = ${p.add(this.live?.branchId ?? '0')}`, `h.kind = ${k}`, 'NOT h.deleted'];
    own.push(...filters('h', query, p));
    const inherited = [`NOT l.live`, `v.kind = ${k}`, 'NOT v.deleted'];
    inherited.push(...filters('v', query, p));
    const visible = ['NOT r.deleted', ...filters('r', query, p)];
    return `WITH l(branch_id, lim, live) AS (VALUES ${viewValues(this.view)}),
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
 * The visible row of one entity (`entity`: an SQL expression) through the view `l` in scope: the newest
 * row under any segment's limit (a tombstone included; callers drop it).
 */
function visibleRow(kind: string, entity: string, columns = ENTITY_COLUMNS): string {
  return `SELECT x.* FROM l CROSS JOIN LATERAL (
      SELECT ${columns} FROM versions v
       WHERE v.branch_id = l.branch_id AND v.kind = ${kind} AND v.entity_id = ${entity} AND v.seq <= l.lim
       ORDER BY v.seq DESC LIMIT 1) x
    ORDER BY x.seq DESC LIMIT 1`;
}

function filters(alias: string, query: ListFilter, p: SqlParams): string[] {
  const out: string[] = [];
  if (query.objectType !== undefined) out.push(`${alias}.object_type = ${p.add(query.objectType)}`);
  if (query.objectTypes !== undefined)
    out.push(`${alias}.object_type = ANY(${p.add(query.objectTypes)}::text[])`);
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

/**
 * A page of a selection: ordered and cut to `limit`. With a containment filter the selection is fenced
 * (OFFSET 0) so that it is planned on its own, by the GIN index on body: otherwise the planner may walk the
 * ordered key index and filter every row until the page fills, which costs the whole type when few match
 * (a document's inverse links at 100k documents: 19 ms instead of 0.3). The fence costs the matches, not the
 * type; without a containment filter the ordered index serves the page directly.
 */
function ordered(selection: string, alias: string, query: ListQuery, limit: string): string {
  if (!query.contains || Object.keys(query.contains).length === 0)
    return `${selection} ${orderBy(alias, query.sort)} LIMIT ${limit}`;
  return `SELECT * FROM (${selection} OFFSET 0) ${alias} ${orderBy(alias, query.sort)} LIMIT ${limit}`;
}

function orderBy(alias: string, sort: SortOrder = 'id'): string {
  const { columns, direction } = ORDER[sort];
  return `ORDER BY ${columns.map((c) => `${alias}.${c} ${direction}`).join(', ')}`;
}
