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
import { ApiCommitMessage, ApiIfMatch, ApiProblems, AT_QUERY, apiPath, responseHeaders } from '@oms/http';
import { Resilient, Revalidate } from '@oms/resilience';
import type { Response } from 'express';
import {
  CreateDocumentDto,
  DeleteResultDto,
  DocumentListResponseDto,
  DocumentResponseDto,
  ReplaceDocumentDto,
  SORT_ORDERS,
} from './document.dto';
import { DocumentsService } from './documents.service';
import { parseListQuery } from './list-query';
import { BRANCH_QUERY, CURSOR_QUERY, LIMIT_QUERY, OBJECT_TYPE_QUERY, branchOf } from './document-queries';

@ApiTags('documents')
@ApiBearerAuth()
@RequireRole('viewer')
@Resilient('documents')
@Controller('documents/crud')
export class DocumentsController {
  constructor(private readonly documents: DocumentsService) {}

  @Get()
  @ApiOperation({ summary: 'List documents, filtered and paged by cursor' })
  @ApiQuery(BRANCH_QUERY)
  @ApiQuery(AT_QUERY)
  @ApiQuery(OBJECT_TYPE_QUERY)
  @ApiQuery(LIMIT_QUERY)
  @ApiQuery(CURSOR_QUERY)
  @ApiQuery({
    name: 'sort',
    required: false,
    schema: { type: 'string', enum: [...SORT_ORDERS], default: 'id' },
  })
  @ApiQuery({
    name: 'property',
    required: false,
    style: 'deepObject',
    explode: true,
    schema: { type: 'object', additionalProperties: { type: 'string' } },
    description:
      'Filters by property values, typed by the object type (needs objectType): `property[age]=36`, or the ' +
      'shorthand `property.age=36`. On an array property it matches documents whose array holds the value; ' +
      'a json property takes JSON and matches by containment.',
  })
  @ApiOkResponse({ type: DocumentListResponseDto })
  @ApiProblems(400, 404)
  list(@Query() query: Record<string, unknown>): Promise<DocumentListResponseDto> {
    return this.documents.list(parseListQuery(query));
  }

  @Post()
  @RequireRole('editor')
  @ApiOperation({ summary: 'Create a document (validated against its object type)' })
  @ApiQuery(BRANCH_QUERY)
  @ApiCommitMessage()
  @ApiBody({ type: CreateDocumentDto })
  @ApiCreatedResponse({ type: DocumentResponseDto, headers: responseHeaders('Location', 'ETag') })
  @ApiProblems(400, 403, 404, 409)
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
    current: (documents, ids, cachedOnly) =>
      documents.current(branchOf(ids.branch), ids.id!, ids.at, cachedOnly),
  })
  @ApiOperation({ summary: 'Get a document' })
  @ApiQuery(BRANCH_QUERY)
  @ApiQuery(AT_QUERY)
  @ApiOkResponse({ type: DocumentResponseDto, headers: responseHeaders('ETag') })
  @ApiProblems(404)
  get(
    @Param('id') id: string,
    @Query('branch') branch?: string,
    @Query('at') at?: string,
  ): Promise<DocumentResponseDto> {
    return this.documents.get(branchOf(branch), id, at);
  }

  @Put(':id')
  @RequireRole('editor')
  @ApiOperation({ summary: 'Replace the properties of a document (or create it)' })
  @ApiQuery(BRANCH_QUERY)
  @ApiCommitMessage()
  @ApiIfMatch()
  @ApiBody({ type: ReplaceDocumentDto })
  @ApiOkResponse({ type: DocumentResponseDto, headers: responseHeaders('ETag') })
  @ApiCreatedResponse({ type: DocumentResponseDto, headers: responseHeaders('Location', 'ETag') })
  @ApiProblems(400, 403, 404, 409, 412, 428)
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
  @ApiQuery(BRANCH_QUERY)
  @ApiCommitMessage()
  @ApiIfMatch()
  @ApiConsumes('application/merge-patch+json')
  @ApiBody({ schema: { type: 'object', example: { properties: { age: 37, nickname: null } } } })
  @ApiOkResponse({ type: DocumentResponseDto, headers: responseHeaders('ETag') })
  @ApiProblems(400, 403, 404, 409, 412, 428)
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
  @ApiOperation({
    summary: 'Delete a document, and what its links say (cascade, nullify) in the same commit',
    description:
      'A referrer whose reference property says `restrict` (the default) refuses the delete (409); `cascade` ' +
      'deletes it too, `nullify` removes its reference. 204 when only the document went; 200 listing what ' +
      'else was deleted or updated otherwise. More than MAX_CASCADE documents touched: 409.',
  })
  @ApiQuery(BRANCH_QUERY)
  @ApiCommitMessage()
  @ApiIfMatch()
  @ApiNoContentResponse({ description: 'Deleted; nothing else changed' })
  @ApiOkResponse({
    type: DeleteResultDto,
    description: 'Deleted, with documents deleted or updated by its links',
  })
  @ApiProblems(403, 404, 409, 412, 428)
  async delete(
    @Param('id') id: string,
    @Query('branch') branch: string | undefined,
    @Write() ctx: WriteContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<DeleteResultDto | undefined> {
    const plan = await this.documents.delete(branchOf(branch), id, ctx);
    if (plan.deleted.length === 1 && plan.updated.length === 0) return undefined;
    res.status(200);
    return {
      deleted: plan.deleted,
      updated: plan.updated.map(({ id: updated, objectType }) => ({ id: updated, objectType })),
    };
  }
}
