import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '@oms/auth';
import { ApiProblems } from '@oms/http';
import { Resilient } from '@oms/resilience';
import { HistoryService } from './history.service';
import { CompareQueryDto, CompareResponseDto } from './versioning.dto';

@ApiTags('version control')
@ApiBearerAuth()
@RequireRole('viewer')
@Resilient('branches', { conditional: false })
@Controller('compare')
export class CompareController {
  constructor(private readonly history: HistoryService) {}

  @Get(':range')
  @ApiOperation({
    summary: 'What changed from base to head',
    description:
      '`{base}...{head}`: from their merge base to head (what merging head would bring). `{base}..{head}`: ' +
      'from base itself. Each is a branch, tag or commit id. Costs in proportion to the changes, not the data.',
  })
  @ApiParam({ name: 'range', example: 'main...feature-x' })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
  })
  @ApiQuery({ name: 'cursor', required: false, schema: { type: 'string' } })
  @ApiQuery({ name: 'objectType', required: false, schema: { type: 'string' } })
  @ApiQuery({
    name: 'include',
    required: false,
    schema: { type: 'string', enum: ['schema', 'documents', 'schema,documents', 'documents,schema'] },
  })
  @ApiOkResponse({ type: CompareResponseDto })
  @ApiProblems(400, 404)
  compare(@Param('range') range: string, @Query() query: CompareQueryDto): Promise<CompareResponseDto> {
    return this.history.compare(range, query);
  }
}
