import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { RequireRole, Write } from '@oms/auth';
import { WriteContext } from '@oms/common';
import { ApiCommitMessage, ApiProblems } from '@oms/http';
import { Resilient } from '@oms/resilience';
import type { Response } from 'express';
import { HistoryService } from './history.service';
import { MergeService } from './merge.service';
import {
  CommitChangesDto,
  CommitDetailDto,
  MergeReportDto,
  MergeRequestDto,
  MergeResultDto,
  RevertRequestDto,
} from './versioning.dto';

@ApiTags('version control')
@ApiBearerAuth()
@RequireRole('viewer')
@Resilient('branches', { conditional: false })
@Controller('branches')
@ApiExtraModels(MergeResultDto, MergeReportDto)
export class MergesController {
  constructor(
    private readonly merges: MergeService,
    private readonly history: HistoryService,
  ) {}

  @Post(':branch/merges')
  @HttpCode(201)
  @RequireRole('editor')
  @ApiOperation({
    summary: 'Merge a branch, tag or commit into the branch (three-way, field level)',
    description:
      '201: merged (a merge commit with both heads as parents, or a fast-forward). 200: a dry run ' +
      '(MergeReportDto), or nothing to merge (MergeResultDto with upToDate). 409: every open conflict and ' +
      'every rule the merged state would break. 412: a head is not the expected one.',
  })
  @ApiCommitMessage()
  @ApiCreatedResponse({ type: MergeResultDto })
  @ApiOkResponse({
    schema: { oneOf: [{ $ref: getSchemaPath(MergeReportDto) }, { $ref: getSchemaPath(MergeResultDto) }] },
  })
  @ApiProblems(403, 404, 409, 412)
  async merge(
    @Param('branch') branch: string,
    @Body() body: MergeRequestDto,
    @Write() ctx: WriteContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MergeResultDto | MergeReportDto> {
    const outcome = await this.merges.merge(branch, body, ctx);
    if (outcome.dryRun) {
      res.status(200);
      return outcome.report;
    }
    if (outcome.result.upToDate) res.status(200);
    return outcome.result;
  }

  @Post(':branch/reverts')
  @HttpCode(201)
  @RequireRole('editor')
  @ApiOperation({ summary: "Undo a commit of the branch's history with a new commit" })
  @ApiCommitMessage()
  @ApiCreatedResponse({ type: MergeResultDto })
  @ApiProblems(403, 404, 409)
  revert(
    @Param('branch') branch: string,
    @Body() body: RevertRequestDto,
    @Write() ctx: WriteContext,
  ): Promise<MergeResultDto> {
    return this.merges.revert(branch, body, ctx);
  }

  @Get(':branch/commits/:id')
  @ApiOperation({ summary: "A commit of the branch's history (id or tag)" })
  @ApiOkResponse({ type: CommitDetailDto })
  @ApiProblems(404)
  commit(@Param('branch') branch: string, @Param('id') id: string): Promise<CommitDetailDto> {
    return this.history.commit(branch, id);
  }

  @Get(':branch/commits/:id/changes')
  @ApiOperation({ summary: 'What a commit changed, against its first parent' })
  @ApiOkResponse({ type: CommitChangesDto })
  @ApiProblems(404)
  changes(@Param('branch') branch: string, @Param('id') id: string): Promise<CommitChangesDto> {
    return this.history.commitChanges(branch, id);
  }
}
