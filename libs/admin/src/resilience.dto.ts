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

export class AdmissionViewDto {
  @ApiProperty({ enum: ['adaptive', 'fixed', 'off'] }) mode: string;
  @ApiProperty({ description: 'Requests the event loop may start in one turn (0 when off)' }) limit: number;
  @ApiProperty({ description: 'Admitted requests whose responses are not done' }) inflight: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Mean event-loop delay met by requests in the last window (ms); null if none arrived',
  })
  delayMs: number | null;
  @ApiProperty() minLimit: number;
  @ApiProperty() maxLimit: number;
  @ApiProperty({ description: 'Delay allowed above the smallest one seen (ms)' }) targetDelayMs: number;
}

export class ResilienceViewDto {
  @ApiProperty({ type: [BreakerViewDto] }) breakers: BreakerViewDto[];
  @ApiProperty({ type: BulkheadViewDto }) bulkhead: BulkheadViewDto;
  @ApiProperty({ type: AdmissionViewDto }) admission: AdmissionViewDto;
}

export const toBreakerView = (b: CircuitBreaker): BreakerViewDto => ({
  name: b.name,
  state: b.state,
  retryAfterSeconds: b.state === 'open' ? b.retryAfterSeconds() : null,
});
