import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '@oms/auth';
import { ApiProblems, AT_QUERY } from '@oms/http';
import { Resilient } from '@oms/resilience';
import { DocumentListResponseDto, DocumentPageQueryDto } from '../document.dto';
import { BRANCH_QUERY, CURSOR_QUERY, LIMIT_QUERY } from '../document-queries';
import { LinksService } from './links.service';

@ApiTags('documents')
@ApiBearerAuth()
@RequireRole('viewer')
@Resilient('documents', { conditional: false })
@Controller('documents/crud')
export class LinksController {
  constructor(private readonly links: LinksService) {}

  @Get(':id/links/:name')
  @ApiOperation({
    summary: 'Follow a link: the documents a reference property names, or those referring to this one',
    description:
      "`name` is a reference property of the document's type (forward: the documents it names, in its " +
      'order) or the `inverseName` of a reference property pointing at the type (inverse: the documents ' +
      'whose property names this one, by id). Paged by cursor; an inverse page is one index look-up.',
  })
  @ApiQuery(BRANCH_QUERY)
  @ApiQuery(AT_QUERY)
  @ApiQuery(LIMIT_QUERY)
  @ApiQuery(CURSOR_QUERY)
  @ApiOkResponse({ type: DocumentListResponseDto })
  @ApiProblems(400, 404)
  traverse(
    @Param('id') id: string,
    @Param('name') name: string,
    @Query() query: DocumentPageQueryDto,
  ): Promise<DocumentListResponseDto> {
    return this.links.traverse(id, name, query);
  }
}
