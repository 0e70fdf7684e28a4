import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsNumber, IsOptional, Max, Min } from 'class-validator';

export class FaultSpecDto {
  @ApiProperty({ minimum: 0, maximum: 1, example: 0.5, description: 'Probability that a call fails' })
  @IsNumber()
  @Min(0)
  @Max(1)
  errorRate: number;

  @ApiProperty({ minimum: 0, maximum: 60000, example: 400, description: 'Added to every call' })
  @IsInt()
  @Min(0)
  @Max(60_000)
  latencyMs: number;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 1000,
    default: 0,
    example: 20,
    description: 'CPU burnt on the event loop in every call (ms), before it runs',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000)
  cpuMs?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 86400, description: 'Absent: until deleted' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(86_400)
  durationSeconds?: number;
}

export class ActiveFaultDto extends FaultSpecDto {
  @ApiProperty({ enum: ['store', 'redis'] }) target: string;
  @ApiProperty() since: string;
  @ApiProperty({ type: String, nullable: true }) until: string | null;
  @ApiProperty({ description: 'Calls it was applied to' }) calls: number;
  @ApiProperty({ description: 'Calls it failed' }) failures: number;
}
