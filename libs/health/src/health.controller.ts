import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { HealthCheck, HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { Public } from '@oms/auth';
import { Unavailable } from '@oms/common';
import { ApiProblems } from '@oms/http';
import { StoreHealthIndicator } from './store.health';

const RETRY_AFTER_SECONDS = 5;

/** Terminus' answer: the status, and each check's state (none for liveness). */
const CHECKS: SchemaObject = {
  type: 'object',
  additionalProperties: { type: 'object', additionalProperties: true },
};
const HEALTH_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string', enum: ['ok'] }, info: CHECKS, error: CHECKS, details: CHECKS },
};
// Cache-Control: no-store on both probes; terminus' own Swagger entry would document the 503 as plain JSON,
// but every error here leaves as problem+json.
const PROBE = { noCache: true, swaggerDocumentation: false };

/** Probes: outside auth, outside backpressure, never cached. */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly store: StoreHealthIndicator,
  ) {}

  @Get('live')
  @HealthCheck(PROBE)
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({ description: 'Alive', schema: HEALTH_SCHEMA })
  @ApiProblems(503)
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck(PROBE)
  @ApiOperation({ summary: 'Readiness: the store is reachable' })
  @ApiOkResponse({ description: 'Ready', schema: HEALTH_SCHEMA })
  @ApiProblems(503)
  async ready(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([() => this.store.check()]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const result = error.getResponse() as HealthCheckResult;
      const failed = Object.keys(result.error ?? {}).join(', ');
      const problem = new Unavailable(`Not ready: ${failed} down.`, RETRY_AFTER_SECONDS);
      problem.extensions.checks = result.details;
      throw problem;
    }
  }
}
