import { ApiProperty } from '@nestjs/swagger';
import { BreakerState, CircuitBreaker } from '@oms/resilience';

export class BreakerViewDto {
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['closed', 'open', 'half-open'] }) state: BreakerState;
  @ApiProperty({ type: Number, nullable: true, description: 'While open: seconds until trial calls' })
  retryAfterSeconds: number | null;
}

export class BulkheadViewDto {
  @ApiProperty() active: number;
  @ApiProperty() queued: number;
  @ApiProperty() maxConcurrent: number;
  @ApiProperty() maxQueue: number;
  @ApiProperty() queueTimeoutMs: number;
}

export class ResilienceViewDto {
  @ApiProperty({ type: [BreakerViewDto] }) breakers: BreakerViewDto[];
  @ApiProperty({ type: BulkheadViewDto }) bulkhead: BulkheadViewDto;
}

export const toBreakerView = (b: CircuitBreaker): BreakerViewDto => ({
  name: b.name,
  state: b.state,
  retryAfterSeconds: b.state === 'open' ? b.retryAfterSeconds() : null,
});
