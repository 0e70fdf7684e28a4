import { BRANCH_NAME_PATTERN, TYPE_NAME_PATTERN } from '@oms/common';
import { MAIN_BRANCH } from '@oms/store';

/** `?branch=` of the document routes, as OpenAPI shows it. */
export const BRANCH_QUERY = {
  name: 'branch',
  required: false,
  description: 'Branch (default main)',
  schema: { type: 'string', pattern: BRANCH_NAME_PATTERN.source, default: MAIN_BRANCH },
} as const;

/** `?objectType=` of the document routes that select by type. */
export const OBJECT_TYPE_QUERY = {
  name: 'objectType',
  required: false,
  schema: { type: 'string', pattern: TYPE_NAME_PATTERN.source },
} as const;

/** The branch a document route works on: `?branch=`, or main. */
export const branchOf = (branch?: string) => branch ?? MAIN_BRANCH;

/** `?limit=` of the paged document routes. */
export const LIMIT_QUERY = {
  name: 'limit',
  required: false,
  schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
} as const;

/** `?cursor=` of the paged document routes. */
export const CURSOR_QUERY = {
  name: 'cursor',
  required: false,
  description: 'nextCursor of the previous page',
  schema: { type: 'string' },
} as const;
