import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Actor, CurrentActor, RequireRole } from '@oms/auth';
import { ApiProblems, apiPath, linkNextPage, responseHeaders } from '@oms/http';
import { Resilient } from '@oms/resilience';
import type { Request, Response } from 'express';
import { BranchResponseDto, CommitResponseDto, CreateBranchDto, ListCommitsQueryDto } from './branch.dto';
import { BranchesService } from './branches.service';

@ApiTags('branches')
@ApiBearerAuth()
@RequireRole('viewer')
@Resilient('branches', { conditional: false })
@Controller('branches')
export class BranchesController {
  constructor(private readonly branches: BranchesService) {}

  @Get()
  @ApiOperation({ summary: 'List branches' })
  @ApiOkResponse({ type: [BranchResponseDto] })
  list(): Promise<BranchResponseDto[]> {
    return this.branches.list();
  }

  @Post()
  @RequireRole('editor')
  @ApiOperation({ summary: 'Create a branch from another (copies nothing, constant cost)' })
  @ApiCreatedResponse({ type: BranchResponseDto, headers: responseHeaders('Location') })
  @ApiProblems(400, 403, 404, 409)
  async create(
    @Body() body: CreateBranchDto,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) res: Response,
  ): Promise<BranchResponseDto> {
    const branch = await this.branches.create(body.name, body.from, actor.username);
    res.location(apiPath('branches', branch.name));
    return branch;
  }

  @Get(':branch')
  @ApiOperation({ summary: 'Get a branch' })
  @ApiOkResponse({ type: BranchResponseDto })
  @ApiProblems(404)
  get(@Param('branch') branch: string): Promise<BranchResponseDto> {
    return this.branches.get(branch);
  }

  @Delete(':branch')
  @HttpCode(204)
  @RequireRole('editor')
  @ApiOperation({ summary: 'Delete a branch (not main)' })
  @ApiNoContentResponse()
  @ApiProblems(403, 404, 409)
  delete(@Param('branch') branch: string): Promise<void> {
    return this.branches.delete(branch);
  }

  @Get(':branch/commits')
  @ApiOperation({ summary: 'History of a branch, newest first, including what it inherited' })
  @ApiOkResponse({ type: [CommitResponseDto], headers: responseHeaders('Link') })
  @ApiProblems(400, 404)
  async commits(
    @Param('branch') branch: string,
    @Query() query: ListCommitsQueryDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CommitResponseDto[]> {
    const page = await this.branches.commits(branch, query.limit, query.cursor);
    if (page.nextCursor)
      linkNextPage(req, res, { limit: String(query.limit ?? 50), cursor: page.nextCursor });
    return page.items;
  }
}
