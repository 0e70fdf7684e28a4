import { DOCUMENT_ID_PATTERN, ValidationFailed, Violation, own, queryPointer, setOwn } from '@oms/common';
import {
  DTO_RULES,
  decodeCursor,
  encodeCursor,
  isExactNumber,
  toViolations,
  unstorableJson,
} from '@oms/http';
import { ObjectTypeDefinition, PropertyDefinition, PropertyPath, containmentAt, leaf } from '@oms/schemas';
import { ListPosition, SortOrder, MAIN_BRANCH } from '@oms/store';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ListDocumentsQueryDto, SORT_ORDERS } from './document.dto';

/** A property filter: `property.<name>`, or `property[<name>]` (OpenAPI's deepObject style, as generated clients send it). */
const FILTER = /^property(?:\.(.+)|\[([^\]]+)\])$/s;

/** One property filter: the property, the query parameter as sent (for errors), the raw value. */
export interface PropertyFilter {
  name: string;
  key: string;
  value: string;
}

export interface ParsedListQuery {
  branch: string;
  /** A commit id or tag of the branch's history: the list as it was then. */
  at?: string;
  objectType?: string;
  limit: number;
  sort: SortOrder;
  after?: ListPosition;
  /** Raw filter values, typed later against the object type. */
  filters: PropertyFilter[];
}

interface Cursor {
  sort: SortOrder;
  id: string;
  createdAt?: string;
}

/** How nextCursor writes createdAt (Date#toISOString of a stored time): nothing else is a position. */
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A cursor is only ever one we made: its id and time must look like ours before they reach the store. */
const isCursor = (v: unknown): v is Cursor => {
  if (typeof v !== 'object' || v === null) return false;
  const { id, sort, createdAt } = v as Partial<Cursor>;
  return (
    typeof id === 'string' &&
    DOCUMENT_ID_PATTERN.test(id) &&
    SORT_ORDERS.includes(sort as SortOrder) &&
    (createdAt === undefined ||
      (typeof createdAt === 'string' && CURSOR_TIME.test(createdAt) && !Number.isNaN(Date.parse(createdAt))))
  );
};

export function nextCursor(sort: SortOrder, last: { id: string; createdAt: string }): string {
  return encodeCursor(
    sort.endsWith('createdAt') ? { sort, id: last.id, createdAt: last.createdAt } : { sort, id: last.id },
  );
}

/** Validates the list's query string, reporting every bad parameter at once. */
export function parseListQuery(raw: Record<string, unknown>): ParsedListQuery {
  const fixed: Record<string, unknown> = {};
  const filters: PropertyFilter[] = [];
  const violations: Violation[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const filter = FILTER.exec(key);
    if (!filter) fixed[key] = value;
    else if (typeof value !== 'string')
      violations.push({ path: queryPointer(key), message: 'must be given once' });
    else filters.push({ name: filter[1] ?? filter[2] ?? '', key, value });
  }
  const names = filters.map((f) => f.name);
  for (const filter of filters.filter((f, i) => names.indexOf(f.name) !== i)) {
    violations.push({ path: queryPointer(filter.key), message: 'filters a property already filtered' });
  }
  const dto = plainToInstance(ListDocumentsQueryDto, fixed);
  const errors = validateSync(dto, DTO_RULES);
  violations.push(...toViolations(errors).map((v) => ({ ...v, path: `/query${v.path}` })));
  if (filters.length > 0 && !dto.objectType) {
    violations.push({ path: queryPointer('objectType'), message: 'is required with property filters' });
  }
  if (violations.length > 0) throw new ValidationFailed(violations);

  const sort = dto.sort ?? 'id';
  let after: ListPosition | undefined;
  if (dto.cursor !== undefined) {
    const cursor = decodeCursor(dto.cursor, isCursor);
    const needsTime = sort.endsWith('createdAt');
    if (cursor.sort !== sort || needsTime !== (cursor.createdAt !== undefined)) {
      throw new ValidationFailed([
        { path: queryPointer('cursor'), message: `was made for sort=${cursor.sort}, not sort=${sort}` },
      ]);
    }
    after = { id: cursor.id, createdAt: cursor.createdAt ? new Date(cursor.createdAt) : undefined };
  }
  return {
    branch: dto.branch ?? MAIN_BRANCH,
    at: dto.at,
    objectType: dto.objectType,
    limit: dto.limit ?? 50,
    sort,
    after,
    filters,
  };
}

/** Types each filter value by its property's dataType, as JSON containment on the document body. */
export function toContainment(
  type: ObjectTypeDefinition,
  filters: PropertyFilter[],
  maxDepth: number,
  valueProblem: (property: PropertyDefinition, value: unknown) => string | undefined,
): Record<string, unknown> {
  const contains: Record<string, unknown> = {};
  const violations: Violation[] = [];
  for (const { name, key, value: raw } of filters) {
    const found = resolvePath(type, name);
    const path = queryPointer(key);
    if (typeof found === 'string') {
      violations.push({ path, message: found });
      continue;
    }
    const property = leaf(found);
    const value = typed(property.dataType, raw);
    if (value === undefined) {
      violations.push({ path, message: `must be a valid ${property.dataType}` });
      continue;
    }
    // A filter value is a value like any written one: as deep, as storable, as valid — or refused.
    const unsafe = property.dataType === 'json' ? unstorableJson(value, raw, maxDepth, path) : [];
    const problem = unsafe.length === 0 ? valueProblem(property, value) : undefined;
    if (problem) unsafe.push({ path, message: problem });
    if (unsafe.length > 0) {
      violations.push(...unsafe);
      continue;
    }
    // On an array property the filter matches documents whose array holds the value; through an array of
    // structs, documents with an item whose member holds it.
    mergeContainment(contains, containmentAt(found, value));
  }
  if (violations.length > 0) throw new ValidationFailed(violations);
  return contains;
}

/** The property a filter's dotted name (`address.city`) leads to through structs, or why it leads nowhere. */
function resolvePath(type: ObjectTypeDefinition, name: string): PropertyPath | string {
  const path: PropertyPath = [];
  let members = type.properties;
  for (const part of name.split('.')) {
    const property = members.find((p) => p.name === part);
    if (!property)
      return path.length === 0
        ? `is not a property of ${type.name}`
        : `is not a member of ${path.map((p) => p.name).join('.')}`;
    path.push(property);
    members = property.properties ?? [];
  }
  if (leaf(path).dataType === 'struct') return 'names a struct: filter by one of its members (struct.member)';
  return path;
}

/** Adds a containment to another (two filters into one struct meet in one object). */
function mergeContainment(into: Record<string, unknown>, add: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(add)) {
    const existing = own(into, key);
    const bothObjects = [existing, value].every(
      (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
    );
    if (bothObjects) mergeContainment(existing as Record<string, unknown>, value as Record<string, unknown>);
    else if (Array.isArray(existing) && Array.isArray(value))
      setOwn(into, key, [...(existing as unknown[]), ...(value as unknown[])]);
    else setOwn(into, key, value);
  }
}

function typed(dataType: string, raw: string): unknown {
  switch (dataType) {
    case 'integer':
      return /^-?\d+$/.test(raw) && Number.isSafeInteger(Number(raw)) ? Number(raw) : undefined;
    case 'decimal':
      // JSON's number grammar, and only what a double holds exactly (as a body would be checked).
      return isExactNumber(raw) ? Number(raw) : undefined;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : undefined;
    case 'json':
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        return undefined;
      }
    default:
      return raw;
  }
}
