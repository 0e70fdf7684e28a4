import { applyDecorators } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiHeader,
  ApiProperty,
  ApiPropertyOptional,
  ApiPropertyOptions,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import type { HeaderObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { STATUS_CODES } from 'node:http';
import { PROBLEM_CONTENT_TYPE } from './problem';
import { COMMIT_REF_PATTERN } from './validation';

export class ViolationDto {
  @ApiProperty({ example: '/body/properties/age', description: 'JSON Pointer into the request' })
  path: string;
  @ApiProperty({ example: 'must be an integer number' }) message: string;
}

export class BreakingChangeDto {
  @ApiProperty({ example: 'age' }) property: string;
  @ApiProperty({ example: 'changes dataType from string to integer' }) change: string;
  @ApiProperty({ example: 3 }) affectedDocuments: number;
  @ApiProperty({ type: [String], description: 'The first few documents it hits' })
  sampleDocumentIds: string[];
}

export class ReferrerDto {
  @ApiProperty() id: string;
  @ApiProperty() objectType: string;
  @ApiProperty({ description: 'The reference property that points at the document' }) property: string;
}

export class ReferrersDto {
  @ApiProperty({ description: 'How many references there are' }) total: number;
  @ApiProperty({ type: [ReferrerDto], description: 'The first 20' }) sample: ReferrerDto[];
}

export class IdSampleDto {
  @ApiProperty() total: number;
  @ApiProperty({ type: [String], description: 'The first few' }) sample: string[];
}

/** Any JSON value (null included): a document's field before and after, a conflicting value. */
export const ANY_JSON: ApiPropertyOptions = {
  anyOf: [
    { type: 'string' },
    { type: 'number' },
    { type: 'boolean' },
    { type: 'array', items: {} },
    { type: 'object', additionalProperties: true, nullable: true },
  ],
};

export class MergeConflictDto {
  @ApiProperty({ description: 'Stable: the same conflict has the same id on every attempt' }) id: string;
  @ApiProperty({ enum: ['field', 'add-add', 'delete-modify', 'schema'] }) kind: string;
  @ApiProperty({ type: String, nullable: true }) objectType: string | null;
  @ApiProperty({ description: 'The document (or, for schema conflicts, the object type)' })
  documentId: string;
  @ApiProperty({ description: "JSON Pointer into the entity's body; empty for the whole entity" })
  path: string;
  @ApiProperty({ ...ANY_JSON, description: 'The value at the merge base (null: absent)' }) base: unknown;
  @ApiProperty({ ...ANY_JSON, description: "The target's value" }) ours: unknown;
  @ApiProperty({ ...ANY_JSON, description: "The source's value" }) theirs: unknown;
}

export class MergeViolationDto {
  @ApiProperty({
    enum: ['unique', 'required', 'reference', 'enum', 'constraint', 'type', 'breaking-schema'],
  })
  kind: string;
  @ApiProperty({ type: String, nullable: true }) objectType: string | null;
  @ApiProperty({ type: String, nullable: true }) documentId: string | null;
  @ApiProperty({ description: 'JSON Pointer into the document' }) path: string;
  @ApiProperty() detail: string;
}

/** RFC 9457 problem details, with every extension member a problem of this service may carry. */
export class ProblemDto {
  @ApiProperty({ example: 'urn:oms:problem:validation' }) type: string;
  @ApiProperty({ example: 'Validation failed' }) title: string;
  @ApiProperty({ example: 400 }) status: number;
  @ApiProperty() detail: string;
  @ApiProperty({ example: '/api/v1/documents/crud?branch=main' }) instance: string;
  @ApiProperty({ description: 'Echoes X-Request-Id' }) requestId: string;
  @ApiPropertyOptional({
    type: [ViolationDto],
    description: 'Every violation (validation, unique-violation)',
  })
  errors?: ViolationDto[];
  @ApiPropertyOptional({ type: [BreakingChangeDto], description: 'breaking-change: each change refused' })
  breakingChanges?: BreakingChangeDto[];
  @ApiPropertyOptional({ type: ReferrersDto, description: 'conflict: what references the document' })
  referencedBy?: ReferrersDto;
  @ApiPropertyOptional({ type: IdSampleDto, description: 'conflict: documents of the object type' })
  documents?: IdSampleDto;
  @ApiPropertyOptional({ type: IdSampleDto, description: 'conflict: object types referencing the type' })
  referencingTypes?: IdSampleDto;
  @ApiPropertyOptional({ description: 'precondition-failed: the current version (ETag without quotes)' })
  currentVersion?: number;
  @ApiPropertyOptional({ description: 'unavailable: the circuit breaker that refused the call' })
  breaker?: string;
  @ApiPropertyOptional({ enum: ['queue_full', 'queue_timeout'], description: 'unavailable: why it was shed' })
  reason?: string;
  @ApiPropertyOptional({ type: [MergeConflictDto], description: 'merge conflict: every conflict left open' })
  conflicts?: MergeConflictDto[];
  @ApiPropertyOptional({
    type: [MergeViolationDto],
    description: 'merge conflict: every rule the merged state would break',
  })
  violations?: MergeViolationDto[];
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'object', additionalProperties: true },
    description: 'health: the state of each check',
  })
  checks?: Record<string, Record<string, unknown>>;
}

/** `?at=`: the state as of a commit of the branch's history, on every GET of object types and documents. */
export const AT_QUERY = {
  name: 'at',
  required: false,
  description:
    "A commit id or tag of the branch's history: the state as of that commit (immutable; 404 when the " +
    'commit is not in the history)',
  schema: { type: 'string', pattern: COMMIT_REF_PATTERN.source },
} as const;

/** The response headers of this API, defined once (components.headers) and referenced by name. */
export const RESPONSE_HEADERS = {
  ETag: { description: 'Strong entity tag of the version returned: "<version>"', schema: { type: 'string' } },
  Location: { description: 'Where the created resource is', schema: { type: 'string' } },
  Link: {
    description: '`<url>; rel="next"`: the next page (absent on the last one)',
    schema: { type: 'string' },
  },
  'Retry-After': {
    description: 'Seconds to wait before trying again',
    schema: { type: 'integer', minimum: 0 },
  },
  'X-Request-Id': {
    description: 'The request id (taken from the request, or generated)',
    schema: { type: 'string' },
  },
  'Cache-Control': { description: '`no-store`', schema: { type: 'string' } },
  'WWW-Authenticate': { description: 'The scheme wanted: `Bearer realm="oms"`', schema: { type: 'string' } },
} satisfies Record<string, HeaderObject>;
export type ResponseHeader = keyof typeof RESPONSE_HEADERS;

/** References to documented response headers, for a response's `headers`. */
export const responseHeaders = (...names: ResponseHeader[]) =>
  Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }]));

/** Headers a problem of this status carries besides X-Request-Id and Cache-Control. */
const PROBLEM_HEADERS: Partial<Record<number, ResponseHeader[]>> = {
  401: ['WWW-Authenticate'],
  429: ['Retry-After'],
  503: ['Retry-After'],
};

/** One documented problem+json response. */
export const problemResponse = (status: number) => ({
  description: STATUS_CODES[status] ?? 'Error',
  headers: responseHeaders('Cache-Control', ...(PROBLEM_HEADERS[status] ?? [])),
  content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemDto) } } },
});

/** Documents the problem+json responses a route can give (besides those every route of its kind gives). */
export function ApiProblems(...statuses: number[]) {
  return applyDecorators(
    ApiExtraModels(ProblemDto),
    ...statuses.map((status) => ApiResponse({ status, ...problemResponse(status) })),
  );
}

/** Documents the X-Commit-Message header of a write. */
export const ApiCommitMessage = () =>
  ApiHeader({
    name: 'X-Commit-Message',
    required: false,
    description:
      "Message of the commit this write makes, UTF-8: raw, or percent-encoded after `UTF-8''` (RFC 8187) " +
      "for clients that send only ASCII, e.g. `UTF-8''Zo%C3%AB`",
  });

/** Documents If-Match on a conditional write, and the answers it brings (412, and 428 when required). */
export const ApiIfMatch = () =>
  applyDecorators(
    ApiHeader({
      name: 'If-Match',
      required: false,
      description:
        'Write only if the ETag matches (412 otherwise); required when REQUIRE_IF_MATCH is on (428)',
    }),
    ApiProblems(412, 428),
  );

/** Documents a revalidating GET: If-None-Match, and 304 with the ETag when it still matches. */
export const ApiRevalidates = () =>
  applyDecorators(
    ApiHeader({
      name: 'If-None-Match',
      required: false,
      description: 'The ETag held: 304 (no body) while it is current',
    }),
    ApiResponse({ status: 304, description: 'Not Modified', headers: responseHeaders('ETag') }),
  );
