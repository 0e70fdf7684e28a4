import { Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '@oms/auth';
import { OmsConfig } from '@oms/config';
import { ApiProblems } from '@oms/http';
import { AdmissionController, BreakerRegistry, Bulkhead, EDGE_ADMISSION } from '@oms/resilience';
import { BreakerViewDto, ResilienceViewDto, toBreakerView } from './resilience.dto';

/** Admin view of the breakers and the bulkhead; never touches the store. */
@ApiTags('admin')
@ApiBearerAuth()
@RequireRole('admin')
@Controller('admin/resilience')
export class ResilienceController {
  constructor(
    private readonly breakers: BreakerRegistry,
    private readonly bulkhead: Bulkhead,
    private readonly config: OmsConfig,
    @Inject(EDGE_ADMISSION) private readonly admission: AdmissionController | null,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Breakers, bulkhead, edge admission and their limits' })
  @ApiOkResponse({ type: ResilienceViewDto })
  @ApiProblems(403)
  get(): ResilienceViewDto {
    return {
      breakers: this.breakers.all().map(toBreakerView),
      bulkhead: { active: this.bulkhead.active, queued: this.bulkhead.queued, ...this.config.backpressure },
      admission: {
        ...this.config.admission,
        limit: this.admission?.limit ?? 0,
        inflight: this.admission?.inflight ?? 0,
        delayMs: this.admission?.delayMs ?? null,
      },
    };
  }

  @Post('breakers/:name/reset')
  @HttpCode(200)
  @ApiOperation({ summary: 'Close a breaker and clear its counts' })
  @ApiOkResponse({ type: BreakerViewDto })
  @ApiProblems(403, 404)
  reset(@Param('name') name: string): BreakerViewDto {
    const breaker = this.breakers.find(name);
    breaker.reset();
    return toBreakerView(breaker);
  }
}
