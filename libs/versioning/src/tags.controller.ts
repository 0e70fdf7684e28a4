import { Body, Controller, Get, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, CurrentActor, RequireRole } from '@oms/auth';
import { ApiProblems, apiPath, responseHeaders } from '@oms/http';
import { Resilient } from '@oms/resilience';
import type { Response } from 'express';
import { HistoryService } from './history.service';
import { CreateTagDto, TagResponseDto } from './versioning.dto';

@ApiTags('version control')
@ApiBearerAuth()
@RequireRole('viewer')
@Resilient('branches', { conditional: false })
@Controller('tags')
export class TagsController {
  constructor(private readonly history: HistoryService) {}

  @Post()
  @RequireRole('editor')
  @ApiOperation({ summary: 'Name a commit (immutable; use ?at={tag} to read it)' })
  @ApiCreatedResponse({ type: TagResponseDto, headers: responseHeaders('Location') })
  @ApiProblems(403, 404, 409)
  async create(
    @Body() body: CreateTagDto,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TagResponseDto> {
    const tag = await this.history.createTag(body.name, body.commit, actor.username, body.message);
    res.location(apiPath('tags', tag.name));
    return tag;
  }

  @Get()
  @ApiOperation({ summary: 'List tags' })
  @ApiOkResponse({ type: [TagResponseDto] })
  list(): Promise<TagResponseDto[]> {
    return this.history.listTags();
  }
}
