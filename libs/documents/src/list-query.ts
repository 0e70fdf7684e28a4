import { ValidationFailed, Violation } from '@oms/common';
import { decodeCursor, encodeCursor, toViolations } from '@oms/http';
import { ObjectTypeDefinition } from '@oms/schemas';
import { ListPosition, SortOrder } from '@oms/store';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ListDocumentsQueryDto } from './document.dto';

const FILTER_PREFIX = 'property.';

export interface ParsedListQuery {
  branch: string;
  objectType?: string;
  limit: number;
  sort: SortOrder;
  after?: ListPosition;
  /** Raw `property.<name>` values, typed later against the object type. */
  filters: Record<string, string>;
}

interface Cursor {
  sort: SortOrder;
  id: string;
  createdAt?: string;
}

const isCursor = (v: unknown): v is Cursor =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Cursor).id === 'string' &&
  typeof (v as Cursor).sort === 'string' &&
  ((v as Cursor).createdAt === undefined || !Number.isNaN(Date.parse((v as Cursor).createdAt!)));

export function nextCursor(sort: SortOrder, last: { id: string; createdAt: string }): string {
  return encodeCursor(
    sort.endsWith('createdAt') ? { sort, id: last.id, createdAt: last.createdAt } : { sort, id: last.id },
  );
}

/** Validates the list's query string, reporting every bad parameter at once. */
export function parseListQuery(raw: Record<string, unknown>): ParsedListQuery {
  const fixed: Record<string, unknown> = {};
  const filters: Record<string, string> = {};
  const violations: Violation[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (!key.startsWith(FILTER_PREFIX)) fixed[key] = value;
    else if (typeof value !== 'string')
      violations.push({ path: `query:${key}`, message: 'must be given once' });
    else filters[key.slice(FILTER_PREFIX.length)] = value;
  }
  const dto = plainToInstance(ListDocumentsQueryDto, fixed);
  const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true });
  violations.push(...toViolations(errors).map((v) => ({ ...v, path: `query:${v.path.slice(1)}` })));
  if (Object.keys(filters).length > 0 && !dto.objectType) {
    violations.push({ path: 'query:objectType', message: 'is required with property filters' });
  }
  if (violations.length > 0) throw new ValidationFailed(violations);

  const sort = dto.sort ?? 'id';
  let after: ListPosition | undefined;
  if (dto.cursor !== undefined) {
    const cursor = decodeCursor(dto.cursor, isCursor);
    const needsTime = sort.endsWith('createdAt');
    if (cursor.sort !== sort || needsTime !== (cursor.createdAt !== undefined)) {
      throw new ValidationFailed([
        { path: 'query:cursor', message: `was made for sort=${cursor.sort}, not sort=${sort}` },
      ]);
    }
    after = { id: cursor.id, createdAt: cursor.createdAt ? new Date(cursor.createdAt) : undefined };
  }
  return {
    branch: dto.branch ?? 'main',
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
  filters: Record<string, string>,
): Record<string, unknown> {
  const contains: Record<string, unknown> = {};
  const violations: Violation[] = [];
  for (const [name, raw] of Object.entries(filters)) {
    const property = type.properties.find((p) => p.name === name);
    const path = `query:property.${name}`;
    if (!property) {
      violations.push({ path, message: `is not a property of ${type.name}` });
      continue;
    }
    const value = typed(property.dataType, raw);
    if (value === undefined) {
      violations.push({ path, message: `must be a valid ${property.dataType}` });
      continue;
    }
    // On an array property the filter matches documents whose array holds the value.
    contains[name] = property.array ? [value] : value;
  }
  if (violations.length > 0) throw new ValidationFailed(violations);
  return contains;
}

function typed(dataType: string, raw: string): unknown {
  switch (dataType) {
    case 'integer':
      return /^-?\d+$/.test(raw) && Number.isSafeInteger(Number(raw)) ? Number(raw) : undefined;
    case 'decimal':
      return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : undefined;
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
