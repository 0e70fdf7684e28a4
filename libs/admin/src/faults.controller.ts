import { Body, Controller, Delete, Get, HttpCode, Param, ParseEnumPipe, Put } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { RequireRole } from '@oms/auth';
import { NotFound } from '@oms/common';
import { ApiProblems } from '@oms/http';
import { ActiveFaultDto, FaultSpecDto } from './fault.dto';
import { FAULT_TARGETS, FaultInjector, FaultTarget } from '@oms/resilience';

const target = new ParseEnumPipe(Object.fromEntries(FAULT_TARGETS.map((t) => [t, t])), {
  exceptionFactory: () => new NotFound('Fault target', 'given'),
});

const TARGET_PARAM = { name: 'target', enum: [...FAULT_TARGETS], description: 'The dependency' };

/** Admin-only fault injection; registered only when FAULT_INJECTION_ENABLED (404 otherwise). Never touches the store. */
@ApiTags('admin')
@ApiBearerAuth()
@RequireRole('admin')
@Controller('admin/faults')
export class FaultsController {
  constructor(private readonly faults: FaultInjector) {}

  @Get()
  @ApiOperation({ summary: 'Active faults' })
  @ApiOkResponse({ type: [ActiveFaultDto] })
  @ApiProblems(403)
  list(): ActiveFaultDto[] {
    return this.faults.list();
  }

  @Put(':target')
  @ApiParam(TARGET_PARAM)
  @ApiOperation({ summary: 'Inject a fault into each call to a dependency (store | redis)' })
  @ApiOkResponse({ type: ActiveFaultDto })
  @ApiProblems(400, 403, 404)
  set(@Param('target', target) name: FaultTarget, @Body() spec: FaultSpecDto): ActiveFaultDto {
    return this.faults.set(name, spec);
  }

  @Delete(':target')
  @ApiParam(TARGET_PARAM)
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a fault' })
  @ApiNoContentResponse()
  @ApiProblems(403, 404)
  clear(@Param('target', target) name: FaultTarget): void {
    this.faults.clear(name);
  }
}
