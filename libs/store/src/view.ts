/** The largest bigint: "no limit", for a branch's own live segment. */
export const NO_LIMIT = '9223372036854775807';

/**
 * What a branch (or a commit) sees: rows of each source branch up to a sequence number. A branch sees its
 * own rows with no limit, its parent's up to the fork, and, after a fast-forward, the source's up to its
 * head. Where segments hold several rows of one entity, the highest `seq` wins: sequence numbers are global
 * and increase, so on a plain chain of forks this is the nearest level.
 */
export interface ViewSegment {
  branchId: string;
  /** null: the branch's own rows, all of them (read from `heads`). */
  limit: string | null;
}

/**
 * What a branch or commit sees, two ways. `history`: every segment, for what is in its history (commits,
 * merge bases, an entity's versions). `data`: the segments its reads need. A merge that is not a
 * fast-forward writes its own row for every entity whose merged value the target did not already show, so
 * the source's segments are covered: history, not data (a target's reads stay as cheap as before it).
 * Read the newest-row-wins way, both give the same values.
 */
export interface View {
  data: ViewSegment[];
  history: ViewSegment[];
}

export interface ViewRow {
  source_id: string | number;
  lim: string | number;
  data_lim: string | number | null;
}

/** The current view of a branch (its id: an SQL expression, $1 by default): each source once, at its highest limit. */
export const headViewSql = (branchId = '$1') => `
  SELECT source_id, max(lim) AS lim, max(lim) FILTER (WHERE NOT covered) AS data_lim
    FROM branch_views WHERE branch_id = ${branchId} GROUP BY source_id`;

/** The view of a branch as of sequence number $2: segments added since are left out, all capped at $2. */
export const VIEW_AT_SQL = `
  SELECT source_id, LEAST(max(lim), $2::bigint) AS lim,
         LEAST(max(lim) FILTER (WHERE NOT covered), $2::bigint) AS data_lim
    FROM branch_views WHERE branch_id = $1 AND since <= $2::bigint GROUP BY source_id`;

export function toView(rows: ViewRow[]): View {
  const segment = (source: string | number, lim: string | number): ViewSegment => ({
    branchId: String(source),
    limit: String(lim) === NO_LIMIT ? null : String(lim),
  });
  const bySource = (a: ViewSegment, b: ViewSegment) => Number(a.branchId) - Number(b.branchId);
  return {
    data: rows.flatMap((r) => (r.data_lim === null ? [] : [segment(r.source_id, r.data_lim)])).sort(bySource),
    history: rows.map((r) => segment(r.source_id, r.lim)).sort(bySource),
  };
}

/** Per source, the lower limit of the two views: what both have seen (a source only one has is left out). */
export function commonView(a: ViewSegment[], b: ViewSegment[]): ViewSegment[] {
  const other = new Map(b.map((s) => [s.branchId, s.limit]));
  const out: ViewSegment[] = [];
  for (const s of a) {
    if (!other.has(s.branchId)) continue;
    const limit = lower(s.limit, other.get(s.branchId) ?? null);
    out.push({ branchId: s.branchId, limit });
  }
  return out;
}

/** Both views at once: per source, the higher limit (a live segment stays live). */
export function unionView(a: ViewSegment[], b: ViewSegment[]): ViewSegment[] {
  const limits = new Map<string, string | null>();
  for (const s of [...a, ...b]) {
    const seen = limits.get(s.branchId);
    limits.set(s.branchId, seen === undefined ? s.limit : higher(seen, s.limit));
  }
  return [...limits].map(([branchId, limit]) => ({ branchId, limit }));
}

/** Whether the view shows rows of `branchId` at `seq`. */
export function viewIncludes(view: ViewSegment[], branchId: string, seq: number | string): boolean {
  return view.some((s) => s.branchId === branchId && (s.limit === null || BigInt(s.limit) >= BigInt(seq)));
}

/** The view with every segment capped at `seq` (a live segment becomes a limited one). */
export function capView(view: ViewSegment[], seq: string): ViewSegment[] {
  return view.map((s) => ({ branchId: s.branchId, limit: lower(s.limit, seq) }));
}

function higher(a: string | null, b: string | null): string | null {
  if (a === null || b === null) return null;
  return BigInt(a) >= BigInt(b) ? a : b;
}

function lower(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return BigInt(a) <= BigInt(b) ? a : b;
}

const INTEGER = /^\d+$/;

/**
 * `(VALUES (branch, limit, live), ...)` for joining as `l(branch_id, lim, live)`; the values are integers
 * read from the database.
 */
export function viewValues(view: ViewSegment[]): string {
  if (view.length === 0) return `(NULL::bigint, 0::bigint, false)`;
  return view
    .map(({ branchId, limit }) => {
      const lim = limit ?? NO_LIMIT;
      if (!INTEGER.test(branchId) || !INTEGER.test(lim)) throw new Error('corrupt view');
      return `(${branchId}::bigint, ${lim}::bigint, ${limit === null})`;
    })
    .join(', ');
}

/**
 * `(VALUES (branch, from, to), ...)` as `d(branch_id, lo, hi)`: the rows `head` sees that `base` does not,
 * as sequence ranges per source (`lo` exclusive).
 */
export function rangesBeyond(base: ViewSegment[], head: ViewSegment[]): string {
  const floor = new Map(base.map((s) => [s.branchId, s.limit ?? NO_LIMIT]));
  const ranges = head
    .map((s) => ({ branchId: s.branchId, lo: floor.get(s.branchId) ?? '0', hi: s.limit ?? NO_LIMIT }))
    .filter((r) => BigInt(r.hi) > BigInt(r.lo));
  if (ranges.length === 0) return `(NULL::bigint, 0::bigint, 0::bigint)`;
  return ranges
    .map(({ branchId, lo, hi }) => {
      if (![branchId, lo, hi].every((v) => INTEGER.test(v))) throw new Error('corrupt view');
      return `(${branchId}::bigint, ${lo}::bigint, ${hi}::bigint)`;
    })
    .join(', ');
}
