import { Controller, Get, Header, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '@oms/auth';
import { ApiProblems, AT_QUERY, responseHeaders } from '@oms/http';
import { Resilient, Revalidate, Tagged } from '@oms/resilience';
import { ObjectTypesService } from './object-types.service';

const SCHEMA_MEDIA_TYPE = 'application/schema+json';
const JSON_SCHEMA_RESPONSE = {
  description: 'A JSON Schema 2020-12 document',
  headers: responseHeaders('ETag'),
  content: { [SCHEMA_MEDIA_TYPE]: { schema: { type: 'object', additionalProperties: true } } },
};

/** The ontology of a branch as JSON Schema 2020-12, for integrators' own tools. */
@ApiTags('schemas')
@ApiBearerAuth()
@RequireRole('viewer')
@Resilient('schemas')
@Controller('schemas/:branch')
export class JsonSchemaController {
  constructor(private readonly types: ObjectTypesService) {}

  @Get('json-schema')
  @Header('Content-Type', SCHEMA_MEDIA_TYPE)
  @Revalidate({
    resource: 'json-schema',
    service: ObjectTypesService,
    current: (types, ids, cachedOnly) => types.currentJsonSchema(ids.branch!, ids.at, cachedOnly),
  })
  @ApiOperation({
    summary: "The branch's object types as one JSON Schema 2020-12 document",
    description:
      "`$defs` holds one schema per object type, for its documents' `properties`. The ETag moves with every " +
      'schema write on the branch. Checks across documents (references, unique) are stated in `$comment`.',
  })
  @ApiProduces(SCHEMA_MEDIA_TYPE)
  @ApiQuery(AT_QUERY)
  @ApiOkResponse(JSON_SCHEMA_RESPONSE)
  @ApiProblems(404)
  branch(@Param('branch') branch: string, @Query('at') at?: string): Promise<Tagged<object>> {
    return this.types.jsonSchema(branch, at);
  }

  @Get('object-types/:typeName/json-schema')
  @Header('Content-Type', SCHEMA_MEDIA_TYPE)
  @Revalidate({
    resource: 'object-type-json-schema',
    service: ObjectTypesService,
    current: (types, ids, cachedOnly) =>
      types.currentTypeJsonSchema(ids.branch!, ids.typeName!, ids.at, cachedOnly),
  })
  @ApiOperation({ summary: "One object type's documents' properties as a JSON Schema 2020-12 document" })
  @ApiProduces(SCHEMA_MEDIA_TYPE)
  @ApiQuery(AT_QUERY)
  @ApiOkResponse(JSON_SCHEMA_RESPONSE)
  @ApiProblems(404)
  type(
    @Param('branch') branch: string,
    @Param('typeName') name: string,
    @Query('at') at?: string,
  ): Promise<Tagged<object>> {
    return this.types.typeJsonSchema(branch, name, at);
  }
}
