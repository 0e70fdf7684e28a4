import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsObject, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { COMMIT_REF_PATTERN } from '@oms/http';
import { TYPE_NAME_PATTERN } from '@oms/schemas';
import { EntityRecord, SortOrder } from '@oms/store';

export { DOCUMENT_ID_PATTERN } from '@oms/common';
import { BRANCH_NAME_PATTERN, DOCUMENT_ID_PATTERN } from '@oms/common';
export const SORT_ORDERS: SortOrder[] = ['id', '-id', 'createdAt', '-createdAt'];

const PROPERTIES_DOC = {
  type: 'object',
  additionalProperties: true,
  example: { name: 'Ada', age: 36 },
} as const;

export class CreateDocumentDto {
  @ApiProperty({ example: 'Person' })
  @Matches(TYPE_NAME_PATTERN, { message: `must match ${TYPE_NAME_PATTERN.source}` })
  objectType: string;

  @ApiPropertyOptional({ pattern: DOCUMENT_ID_PATTERN.source, description: 'Generated (UUID) when absent' })
  @IsOptional()
  @Matches(DOCUMENT_ID_PATTERN, { message: `must match ${DOCUMENT_ID_PATTERN.source}` })
  id?: string;

  @ApiProperty(PROPERTIES_DOC)
  @IsObject()
  properties: Record<string, unknown>;
}

export class ReplaceDocumentDto {
  @ApiProperty(PROPERTIES_DOC)
  @IsObject()
  properties: Record<string, unknown>;

  @ApiPropertyOptional({
    description: "Must match the document's type; required when PUT creates the document",
  })
  @IsOptional()
  @Matches(TYPE_NAME_PATTERN, { message: `must match ${TYPE_NAME_PATTERN.source}` })
  objectType?: string;
}

export class DocumentResponseDto {
  @ApiProperty() id: string;
  @ApiProperty() objectType: string;
  @ApiProperty(PROPERTIES_DOC) properties: Record<string, unknown>;
  @ApiProperty({ description: 'Changes on every write; the ETag is derived from it' }) version: number;
  @ApiProperty() createdAt: string;
  @ApiProperty() createdBy: string;
  @ApiProperty() updatedAt: string;
  @ApiProperty() updatedBy: string;
}

export class DocumentListResponseDto {
  @ApiProperty({ type: [DocumentResponseDto] }) items: DocumentResponseDto[];
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as ?cursor= for the next page; null at the end',
  })
  nextCursor: string | null;
}

export class TouchedDocumentDto {
  @ApiProperty() id: string;
  @ApiProperty() objectType: string;
}

/** What a delete did besides removing its document, when its links' rules did anything. */
export class DeleteResultDto {
  @ApiProperty({ type: [TouchedDocumentDto], description: 'The document itself first, then what cascaded' })
  deleted: TouchedDocumentDto[];
  @ApiProperty({
    type: [TouchedDocumentDto],
    description: 'Documents whose references to deleted ones were removed (nullify)',
  })
  updated: TouchedDocumentDto[];
}

/** The query of a page of documents read on a branch, now or at a commit: a list's, a link's. */
export class DocumentPageQueryDto {
  @IsOptional()
  @Matches(BRANCH_NAME_PATTERN, { message: `must match ${BRANCH_NAME_PATTERN.source}` })
  branch?: string;

  @IsOptional()
  @Matches(COMMIT_REF_PATTERN, { message: `must match ${COMMIT_REF_PATTERN.source}` })
  at?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
  @IsOptional() @IsString() cursor?: string;
}

/** The fixed query parameters of a list; `property.<name>=<value>` filters are parsed beside them. */
export class ListDocumentsQueryDto extends DocumentPageQueryDto {
  @IsOptional()
  @Matches(TYPE_NAME_PATTERN, { message: `must match ${TYPE_NAME_PATTERN.source}` })
  objectType?: string;

  @IsOptional() @IsIn(SORT_ORDERS, { message: `must be one of ${SORT_ORDERS.join(', ')}` }) sort?: SortOrder;
}

export function toDocumentResponse(record: EntityRecord<Record<string, unknown>>): DocumentResponseDto {
  return {
    id: record.id,
    objectType: record.objectType ?? '',
    properties: record.body,
    version: record.version,
    createdAt: record.createdAt.toISOString(),
    createdBy: record.createdBy,
    updatedAt: record.updatedAt.toISOString(),
    updatedBy: record.updatedBy,
  };
}
