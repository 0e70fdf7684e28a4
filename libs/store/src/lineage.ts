/** The largest bigint: "no limit" for the branch's own level. */
const NO_LIMIT = '9223372036854775807';

/**
 * One level of a branch's ancestry: the branch itself (depth 0, no limit), its parent up to the fork
 * (limit = the child's fork_seq), the grandparent up to the parent's fork, and so on.
 */
export interface LineageLevel {
  branchId: string;
  limit: string | null;
  depth: number;
}

export interface LineageRow {
  id: string | number;
  fork_seq: string | number | null;
  depth: number;
}

/** Recursive walk from a branch (by id, or by live name) to its root; $1 is the id or the name. */
export function lineageSql(by: 'id' | 'name'): string {
  const start = by === 'id' ? 'id = $1' : 'name = $1 AND deleted_at IS NULL';
  return `
    WITH RECURSIVE lin AS (
      SELECT id, parent_id, fork_seq, 0 AS depth FROM branches WHERE ${start}
      UNION ALL
      SELECT p.id, p.parent_id, p.fork_seq, lin.depth + 1 FROM branches p JOIN lin ON p.id = lin.parent_id
    )
    SELECT id, fork_seq, depth FROM lin ORDER BY depth`;
}

export function toLineage(rows: LineageRow[]): LineageLevel[] {
  return rows.map((row, index) => {
    // A level is seen as it was when the level below it forked (the branch itself: all of it).
    const below = rows[index - 1];
    return {
      branchId: String(row.id),
      limit: below ? String(below.fork_seq) : null,
      depth: Number(row.depth),
    };
  });
}

const INTEGER = /^\d+$/;

/** `(VALUES (branch, limit, depth), ...)` for joining; the values are integers read from the database. */
export function lineageValues(levels: LineageLevel[]): string {
  return levels
    .map(({ branchId, limit, depth }) => {
      const lim = limit ?? NO_LIMIT;
      if (!INTEGER.test(branchId) || !INTEGER.test(lim)) throw new Error('corrupt lineage');
      return `(${branchId}::bigint, ${lim}::bigint, ${depth})`;
    })
    .join(', ');
}
