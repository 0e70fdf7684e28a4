import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
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
import { Resilient, Revalidate, Tagged } from '@oms/resilience';
import type { Response } from 'express';
import { ObjectTypeDto, ObjectTypeListResponseDto, ObjectTypeResponseDto } from './object-type.dto';
import { ObjectTypesService } from './object-types.service';

@ApiTags('schemas')
@ApiBearerAuth()
@RequireRole('viewer')
@Resilient('schemas')
@Controller('schemas/:branch/object-types')
export class ObjectTypesController {
  constructor(private readonly types: ObjectTypesService) {}

  @Get()
  @Revalidate({
    resource: 'object-type-list',
    service: ObjectTypesService,
    current: (types, ids, cachedOnly) => types.currentList(ids.branch!, ids.at, cachedOnly),
  })
  @ApiOperation({ summary: 'List the object types of a branch' })
  @ApiQuery(AT_QUERY)
  @ApiOkResponse({ type: ObjectTypeListResponseDto, headers: responseHeaders('ETag') })
  @ApiProblems(404)
  list(
    @Param('branch') branch: string,
    @Query('at') at?: string,
  ): Promise<Tagged<ObjectTypeListResponseDto>> {
    return this.types.list(branch, at);
  }

  @Post()
  @RequireRole('editor')
  @ApiOperation({ summary: 'Create an object type (a commit on the branch)' })
  @ApiCommitMessage()
  @ApiBody({ type: ObjectTypeDto })
  @ApiCreatedResponse({ type: ObjectTypeResponseDto, headers: responseHeaders('Location', 'ETag') })
  @ApiProblems(400, 403, 404, 409, 412)
  async create(
    @Param('branch') branch: string,
    @Body() body: unknown,
    @Write() ctx: WriteContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ObjectTypeResponseDto> {
    const created = await this.types.create(branch, body, ctx);
    res.location(apiPath('schemas', branch, 'object-types', created.name));
    return created;
  }

  @Get(':typeName')
  @Revalidate({
    resource: 'object-type',
    service: ObjectTypesService,
    current: (types, ids, cachedOnly) => types.current(ids.branch!, ids.typeName!, ids.at, cachedOnly),
  })
  @ApiOperation({ summary: 'Get an object type' })
  @ApiQuery(AT_QUERY)
  @ApiOkResponse({ type: ObjectTypeResponseDto, headers: responseHeaders('ETag') })
  @ApiProblems(404)
  get(
    @Param('branch') branch: string,
    @Param('typeName') name: string,
    @Query('at') at?: string,
  ): Promise<ObjectTypeResponseDto> {
    return this.types.get(branch, name, at);
  }

  @Put(':typeName')
  @RequireRole('editor')
  @ApiOperation({
    summary: 'Replace (or create) an object type',
    description:
      'A change that would make existing documents invalid is refused with 409, naming each change.',
  })
  @ApiCommitMessage()
  @ApiIfMatch()
  @ApiBody({ type: ObjectTypeDto })
  @ApiOkResponse({ type: ObjectTypeResponseDto, headers: responseHeaders('ETag') })
  @ApiCreatedResponse({ type: ObjectTypeResponseDto, headers: responseHeaders('Location', 'ETag') })
  @ApiProblems(400, 403, 404, 409, 412, 428)
  async replace(
    @Param('branch') branch: string,
    @Param('typeName') name: string,
    @Body() body: unknown,
    @Write() ctx: WriteContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ObjectTypeResponseDto> {
    const result = await this.types.replace(branch, name, body, ctx);
    if (result.created) res.status(201).location(apiPath('schemas', branch, 'object-types', name));
    return result.value;
  }

  @Delete(':typeName')
  @HttpCode(204)
  @RequireRole('editor')
  @ApiOperation({ summary: 'Delete an object type (409 while documents or referencing types exist)' })
  @ApiCommitMessage()
  @ApiIfMatch()
  @ApiNoContentResponse()
  @ApiProblems(403, 404, 409, 412, 428)
  delete(
    @Param('branch') branch: string,
    @Param('typeName') name: string,
    @Write() ctx: WriteContext,
  ): Promise<void> {
    return this.types.delete(branch, name, ctx);
  }
}
