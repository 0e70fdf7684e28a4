import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  Allow,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { BRANCH_NAME_PATTERN } from '@oms/common';
import { ANY_JSON, COMMIT_REF_PATTERN, MergeConflictDto, MergeViolationDto } from '@oms/http';
import { Commit, Tag } from '@oms/store';

const REF = COMMIT_REF_PATTERN;
const COMMIT_ID = /^[0-9a-f]{40}$/;
/** A ref that is not a commit id: `?at=` and refs read a 40-hex value as a commit id. */
const TAG_NAME = /^(?![0-9a-f]{40}$)[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const REF_RULE = { message: 'must be a branch name, tag name or commit id' };

export const STRATEGIES = ['fail', 'ours', 'theirs'] as const;
export const CHOICES = ['ours', 'theirs', 'base', 'value'] as const;

export class ResolutionDto {
  @ApiProperty({ description: 'The id of a conflict a merge reported' })
  @IsString()
  @MaxLength(100)
  conflictId: string;

  @ApiProperty({ enum: CHOICES })
  @IsIn(CHOICES, { message: `must be one of ${CHOICES.join(', ')}` })
  choice: (typeof CHOICES)[number];

  @ApiPropertyOptional({
    ...ANY_JSON,
    description: "With choice 'value': the value to use (null: absent or deleted)",
  })
  @Allow()
  value?: unknown;
}

export class MergeRequestDto {
  @ApiProperty({ description: 'Branch, tag or commit id to merge into the target', example: 'feature-x' })
  @Matches(REF, REF_RULE)
  source: string;

  @ApiPropertyOptional({ description: "The target's head the client saw; another head → 412" })
  @IsOptional()
  @Matches(COMMIT_ID, { message: 'must be a commit id' })
  expectedTargetHead?: string;

  @ApiPropertyOptional({ description: "The source's head the client saw; another head → 412" })
  @IsOptional()
  @Matches(COMMIT_ID, { message: 'must be a commit id' })
  expectedSourceHead?: string;

  @ApiPropertyOptional({
    enum: STRATEGIES,
    default: 'fail',
    description: 'How conflicts left unresolved end',
  })
  @IsOptional()
  @IsIn(STRATEGIES, { message: `must be one of ${STRATEGIES.join(', ')}` })
  strategy?: (typeof STRATEGIES)[number];

  @ApiPropertyOptional({ type: [ResolutionDto] })
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ResolutionDto)
  resolutions?: ResolutionDto[];

  @ApiPropertyOptional({
    default: true,
    description:
      'false: a merge commit even where the target could fast-forward. A fast-forward copies nothing, but ' +
      "from then on the target's reads also go through the source's rows; a merge commit writes the " +
      'changes onto the target instead',
  })
  @IsOptional()
  @IsBoolean()
  fastForward?: boolean;

  @ApiPropertyOptional({ description: 'Report what the merge would do, change nothing' })
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;

  @ApiPropertyOptional({ description: "The merge commit's message" })
  @IsOptional()
  @IsString()
  @MaxLength(10_000)
  message?: string;
}

export class RevertRequestDto {
  @ApiProperty({ description: "The commit to undo: an id or tag in the branch's history" })
  @Matches(REF, { message: 'must be a commit id or tag' })
  commit: string;

  @ApiPropertyOptional({ type: [ResolutionDto] })
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ResolutionDto)
  resolutions?: ResolutionDto[];
}

export class AppliedDto {
  @ApiProperty({ description: 'Object types the target changed by' }) schema: number;
  @ApiProperty({ description: 'Documents the target changed by' }) documents: number;
}

export class MergeResultDto {
  @ApiProperty({ description: "The target's new head (a fast-forward: the source's head)" }) commit: string;
  @ApiProperty({ type: [String], description: 'The merge commit: [target head, source head]' })
  parents: string[];
  @ApiProperty() fastForward: boolean;
  @ApiProperty({ description: 'Nothing to merge: the source is already in the target' }) upToDate: boolean;
  @ApiProperty({ type: AppliedDto }) applied: AppliedDto;
}

@ApiExtraModels(MergeConflictDto, MergeViolationDto)
export class MergeReportDto {
  @ApiProperty() mergeable: boolean;
  @ApiProperty() fastForward: boolean;
  @ApiProperty() mergeBase: string;
  @ApiProperty({ type: [MergeConflictDto] }) conflicts: MergeConflictDto[];
  @ApiProperty({ type: [MergeViolationDto] }) violations: MergeViolationDto[];
  @ApiProperty({ type: AppliedDto }) applied: AppliedDto;
}

export class FieldChangeDto {
  @ApiProperty({ description: "JSON Pointer into the entity's body" }) path: string;
  @ApiProperty({ ...ANY_JSON, description: 'null: absent' }) before: unknown;
  @ApiProperty({ ...ANY_JSON, description: 'null: absent' }) after: unknown;
}

export class SchemaChangeDto {
  @ApiProperty() objectType: string;
  @ApiProperty({ enum: ['added', 'modified', 'removed'] }) op: string;
  @ApiProperty({ type: Number, nullable: true }) fromVersion: number | null;
  @ApiProperty({ type: Number, nullable: true }) toVersion: number | null;
  @ApiProperty({ description: 'Could make existing documents invalid' }) breaking: boolean;
  @ApiProperty({ type: [FieldChangeDto] }) changes: FieldChangeDto[];
}

export class DocumentChangeDto {
  @ApiProperty() objectType: string;
  @ApiProperty() id: string;
  @ApiProperty({ enum: ['added', 'modified', 'removed'] }) op: string;
  @ApiProperty({ type: Number, nullable: true }) fromVersion: number | null;
  @ApiProperty({ type: Number, nullable: true }) toVersion: number | null;
  @ApiProperty({ type: [FieldChangeDto] }) changes: FieldChangeDto[];
}

export class ChangeCountsDto {
  @ApiProperty() added: number;
  @ApiProperty() modified: number;
  @ApiProperty() removed: number;
}

export class SchemaCountsDto extends ChangeCountsDto {
  @ApiProperty() breaking: number;
}

@ApiExtraModels(ChangeCountsDto)
export class ChangeSummaryDto {
  @ApiProperty({ type: SchemaCountsDto }) schema: SchemaCountsDto;
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: getSchemaPath(ChangeCountsDto) },
    description: 'By object type',
  })
  documents: Record<string, ChangeCountsDto>;
}

export class CompareResponseDto {
  @ApiProperty({ description: 'Commit id of the base' }) base: string;
  @ApiProperty({ description: 'Commit id of the head' }) head: string;
  @ApiProperty({ description: 'The newest commit both have' }) mergeBase: string;
  @ApiProperty({ type: ChangeSummaryDto, description: 'All changes, not only this page' })
  summary: ChangeSummaryDto;
  @ApiProperty({ type: [SchemaChangeDto] }) schema: SchemaChangeDto[];
  @ApiProperty({ type: [DocumentChangeDto] }) documents: DocumentChangeDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export const INCLUDES = ['schema', 'documents'] as const;

export class CompareQueryDto {
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
  @IsOptional() @IsString() cursor?: string;
  @IsOptional()
  @Matches(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, { message: 'must be an object type name' })
  objectType?: string;
  @IsOptional()
  @Matches(/^(schema|documents)(,(schema|documents))?$/, { message: 'must be schema, documents or both' })
  include?: string;
}

export class CommitDetailDto {
  @ApiProperty() id: string;
  @ApiProperty({ type: [String] }) parents: string[];
  @ApiProperty() author: string;
  @ApiProperty() message: string;
  @ApiProperty() createdAt: string;
}

export class CommitChangesDto {
  @ApiProperty() commit: string;
  @ApiProperty({ type: [SchemaChangeDto] }) schema: SchemaChangeDto[];
  @ApiProperty({ type: [DocumentChangeDto] }) documents: DocumentChangeDto[];
}

export class HistoryEntryDto {
  @ApiProperty() commit: string;
  @ApiProperty({ type: Number, nullable: true, description: 'null: the document was deleted' })
  version: number | null;
  @ApiProperty() author: string;
  @ApiProperty() message: string;
  @ApiProperty() createdAt: string;
  @ApiProperty({ enum: ['added', 'modified', 'removed'] }) op: string;
  @ApiProperty({ type: [FieldChangeDto] }) changes: FieldChangeDto[];
}

export class HistoryQueryDto {
  @IsOptional()
  @Matches(BRANCH_NAME_PATTERN, { message: `must match ${BRANCH_NAME_PATTERN.source}` })
  branch?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
  @IsOptional() @IsString() cursor?: string;
}

export class CreateTagDto {
  @ApiProperty({ example: 'v1.0', pattern: TAG_NAME.source, description: 'Immutable once made' })
  @Matches(TAG_NAME, { message: `must match ${REF.source} and not look like a commit id` })
  name: string;

  @ApiProperty({ description: "What to name: a commit id, another tag, or a branch (its head's commit)" })
  @Matches(REF, REF_RULE)
  commit: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(10_000)
  message?: string;
}

export class TagResponseDto {
  @ApiProperty() name: string;
  @ApiProperty() commit: string;
  @ApiProperty() message: string;
  @ApiProperty() createdBy: string;
  @ApiProperty() createdAt: string;
}

export const toTagResponse = (t: Tag): TagResponseDto => ({
  name: t.name,
  commit: t.commit,
  message: t.message,
  createdBy: t.createdBy,
  createdAt: t.createdAt.toISOString(),
});

export const toCommitDetail = (c: Commit): CommitDetailDto => ({
  id: c.id,
  parents: c.parents,
  author: c.author,
  message: c.message,
  createdAt: c.createdAt.toISOString(),
});
