import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { Branch, Commit, MAIN_BRANCH } from '@oms/store';

export { BRANCH_NAME_PATTERN } from '@oms/common';
import { BRANCH_NAME_PATTERN } from '@oms/common';

export class CreateBranchDto {
  @ApiProperty({ pattern: BRANCH_NAME_PATTERN.source, example: 'feature-x' })
  @Matches(BRANCH_NAME_PATTERN, { message: `must match ${BRANCH_NAME_PATTERN.source}` })
  name: string;

  @ApiPropertyOptional({ default: MAIN_BRANCH, description: 'The branch to start from' })
  @IsOptional()
  @Matches(BRANCH_NAME_PATTERN, { message: `must match ${BRANCH_NAME_PATTERN.source}` })
  from?: string;
}

export class BranchResponseDto {
  @ApiProperty() name: string;
  @ApiProperty({ description: 'Id of the newest commit' }) head: string;
  @ApiProperty({ nullable: true, type: String, description: 'The branch it was created from' }) createdFrom:
    string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() createdBy: string;
}

export class CommitResponseDto {
  @ApiProperty() id: string;
  @ApiProperty({ type: [String] }) parents: string[];
  @ApiProperty() author: string;
  @ApiProperty() message: string;
  @ApiProperty() createdAt: string;
}

export class ListCommitsQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ description: 'From the Link rel="next" header of the previous page' })
  @IsOptional()
  @IsString()
  cursor?: string;
}

export const toBranchResponse = (b: Branch): BranchResponseDto => ({
  name: b.name,
  head: b.head,
  createdFrom: b.createdFrom,
  createdAt: b.createdAt.toISOString(),
  createdBy: b.createdBy,
});

export const toCommitResponse = (c: Commit): CommitResponseDto => ({
  id: c.id,
  parents: c.parents,
  author: c.author,
  message: c.message,
  createdAt: c.createdAt.toISOString(),
});
