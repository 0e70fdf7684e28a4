import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { RequireRole, Write } from '@oms/auth';
import { WriteContext } from '@oms/common';
import { ApiCommitMessage, ApiIfMatch, ApiProblems, apiPath } from '@oms/http';
import { Resilient, Revalidate } from '@oms/resilience';
import type { Response } from 'express';
import {
  CreateDocumentDto,
  DocumentListResponseDto,
  DocumentResponseDto,
  ReplaceDocumentDto,
  SORT_ORDERS,
} from './document.dto';
import { DocumentsService } from './documents.service';
import { parseListQuery } from './list-query';

const BRANCH = { name: 'branch', required: false, description: 'Branch (default main)' };
const branchOf = (branch?: string) => branch ?? 'main';

@ApiTags('documents')
@ApiBearerAuth()
@RequireRole('viewer')
@Resilient('documents')
@Controller('documents/crud')
export class DocumentsController {
  constructor(private readonly documents: DocumentsService) {}

  @Get()
  @ApiOperation({ summary: 'List documents, filtered and paged by cursor' })
  @ApiQuery(BRANCH)
  @ApiQuery({ name: 'objectType', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1-1000, default 50' })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  @ApiQuery({ name: 'sort', required: false, enum: SORT_ORDERS })
  @ApiQuery({
    name: 'property.<name>',
    required: false,
    description: 'Filter by a property value, typed by the object type (needs objectType)',
  })
  @ApiOkResponse({ type: DocumentListResponseDto })
  @ApiProblems(400, 401, 404)
  list(@Query() query: Record<string, unknown>): Promise<DocumentListResponseDto> {
    return this.documents.list(parseListQuery(query));
  }

  @Post()
  @RequireRole('editor')
  @ApiOperation({ summary: 'Create a document (validated against its object type)' })
  @ApiQuery(BRANCH)
  @ApiCommitMessage()
  @ApiBody({ type: CreateDocumentDto })
  @ApiCreatedResponse({ type: DocumentResponseDto, headers: { Location: {}, ETag: {} } })
  @ApiProblems(400, 401, 403, 404, 409, 413, 415)
  async create(
    @Query('branch') branch: string | undefined,
    @Body() body: unknown,
    @Write() ctx: WriteContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<DocumentResponseDto> {
    const created = await this.documents.create(branchOf(branch), body, ctx);
    res.location(
      `${apiPath('documents', 'crud', created.id)}?branch=${encodeURIComponent(branchOf(branch))}`,
    );
    return created;
  }

  @Get(':id')
  @Revalidate({
    resource: 'document',
    service: DocumentsService,
    tag: (documents, req) =>
      documents.tag(branchOf(req.query.branch as string | undefined), req.params.id as string),
  })
  @ApiOperation({ summary: 'Get a document' })
  @ApiQuery(BRANCH)
  @ApiOkResponse({ type: DocumentResponseDto, headers: { ETag: {} } })
  @ApiProblems(401, 404)
  get(@Param('id') id: string, @Query('branch') branch?: string): Promise<DocumentResponseDto> {
    return this.documents.get(branchOf(branch), id);
  }

  @Put(':id')
  @RequireRole('editor')
  @ApiOperation({ summary: 'Replace the properties of a document (or create it)' })
  @ApiQuery(BRANCH)
  @ApiCommitMessage()
  @ApiIfMatch()
  @ApiBody({ type: ReplaceDocumentDto })
  @ApiOkResponse({ type: DocumentResponseDto, headers: { ETag: {} } })
  @ApiCreatedResponse({ type: DocumentResponseDto, headers: { Location: {}, ETag: {} } })
  @ApiProblems(400, 401, 403, 404, 409, 412, 428)
  async replace(
    @Param('id') id: string,
    @Query('branch') branch: string | undefined,
    @Body() body: unknown,
    @Write() ctx: WriteContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<DocumentResponseDto> {
    const result = await this.documents.replace(branchOf(branch), id, body, ctx);
    if (result.created) {
      res
        .status(201)
        .location(`${apiPath('documents', 'crud', id)}?branch=${encodeURIComponent(branchOf(branch))}`);
    }
    return result.value;
  }

  @Patch(':id')
  @RequireRole('editor')
  @ApiOperation({ summary: 'Merge-patch a document (RFC 7396); only properties may change' })
  @ApiQuery(BRANCH)
  @ApiCommitMessage()
  @ApiIfMatch()
  @ApiConsumes('application/merge-patch+json')
  @ApiBody({ schema: { type: 'object', example: { properties: { age: 37, nickname: null } } } })
  @ApiOkResponse({ type: DocumentResponseDto, headers: { ETag: {} } })
  @ApiProblems(400, 401, 403, 404, 409, 412, 415, 428)
  patch(
    @Param('id') id: string,
    @Query('branch') branch: string | undefined,
    @Body() patch: unknown,
    @Write() ctx: WriteContext,
  ): Promise<DocumentResponseDto> {
    return this.documents.patch(branchOf(branch), id, patch, ctx);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireRole('editor')
  @ApiOperation({ summary: 'Delete a document (409 while others reference it)' })
  @ApiQuery(BRANCH)
  @ApiCommitMessage()
  @ApiIfMatch()
  @ApiNoContentResponse()
  @ApiProblems(401, 403, 404, 409, 412, 428)
  delete(
    @Param('id') id: string,
    @Query('branch') branch: string | undefined,
    @Write() ctx: WriteContext,
  ): Promise<void> {
    return this.documents.delete(branchOf(branch), id, ctx);
  }
}
