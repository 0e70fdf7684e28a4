import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '@oms/auth';
import { ApiProblems, linkNextPage, responseHeaders } from '@oms/http';
import { Resilient } from '@oms/resilience';
import type { Request, Response } from 'express';
import { HistoryService } from './history.service';
import { HistoryEntryDto, HistoryQueryDto } from './versioning.dto';

@ApiTags('documents')
@ApiBearerAuth()
@RequireRole('viewer')
@Resilient('documents', { conditional: false })
@Controller('documents/crud')
export class DocumentHistoryController {
  constructor(private readonly history: HistoryService) {}

  @Get(':id/history')
  @ApiOperation({
    summary: "A document's versions on a branch, newest first (both sides of merges), with what each changed",
  })
  @ApiQuery({ name: 'branch', required: false, schema: { type: 'string', default: 'main' } })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
  })
  @ApiQuery({ name: 'cursor', required: false, schema: { type: 'string' } })
  @ApiOkResponse({ type: [HistoryEntryDto], headers: responseHeaders('Link') })
  @ApiProblems(400, 404)
  async list(
    @Param('id') id: string,
    @Query() query: HistoryQueryDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<HistoryEntryDto[]> {
    const page = await this.history.documentHistory(id, query);
    if (page.nextCursor) {
      linkNextPage(req, res, {
        ...(query.branch ? { branch: query.branch } : {}),
        limit: String(query.limit ?? 50),
        cursor: page.nextCursor,
      });
    }
    return page.items;
  }
}
