import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { BRANCH_NAME_PATTERN } from '@oms/common';
import { DELIVERY_STATUSES, DeliveryRecord, DeliveryStatus, WebhookRecord } from '@oms/store';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

/** Standard Webhooks' secret form: `whsec_` and the base64 of 24 to 64 random bytes. */
export const SECRET_PATTERN = /^whsec_(?:[A-Za-z0-9+/]{4}){8,22}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export class CreateWebhookDto {
  @ApiProperty({ example: 'https://search.example.com/oms-events', maxLength: 2048 })
  @IsString()
  @MaxLength(2048)
  url: string;

  @ApiProperty({ example: ['main'], description: 'The branches whose commits it receives', maxItems: 100 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ArrayUnique()
  @Matches(BRANCH_NAME_PATTERN, { each: true, message: `each must match ${BRANCH_NAME_PATTERN.source}` })
  branches: string[];

  @ApiPropertyOptional({
    description: 'The signing secret, `whsec_<base64 of 24–64 bytes>`; generated when absent',
    pattern: SECRET_PATTERN.source,
  })
  @IsOptional()
  @IsString()
  @Matches(SECRET_PATTERN, { message: 'must be whsec_ followed by the base64 of 24 to 64 bytes' })
  secret?: string;
}

export class WebhookResponseDto {
  @ApiProperty() id: string;
  @ApiProperty() url: string;
  @ApiProperty({ type: [String] }) branches: string[];
  @ApiProperty() createdBy: string;
  @ApiProperty() createdAt: string;
  @ApiProperty({ type: String, nullable: true, description: 'Set when the receiver answered 410 Gone' })
  disabledAt: string | null;
  @ApiProperty({ type: String, nullable: true }) disabledReason: string | null;
}

export class CreatedWebhookDto extends WebhookResponseDto {
  @ApiProperty({ description: 'The signing secret: shown here only, keep it' })
  secret: string;
}

export function toWebhookResponse(webhook: WebhookRecord): WebhookResponseDto {
  return {
    id: webhook.id,
    url: webhook.url,
    branches: webhook.branches,
    createdBy: webhook.createdBy,
    createdAt: webhook.createdAt.toISOString(),
    disabledAt: webhook.disabledAt?.toISOString() ?? null,
    disabledReason: webhook.disabledReason,
  };
}

export class DeliveriesQueryDto {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ description: 'From the Link header of the page before' })
  @IsOptional()
  @IsString()
  cursor?: string;
}

export class DeliveryResponseDto {
  @ApiProperty() id: string;
  @ApiProperty() webhookId: string;
  @ApiProperty() branch: string;
  @ApiProperty() seq: number;
  @ApiProperty({ type: String, nullable: true, description: 'The commit the event tells of' })
  eventId: string | null;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: DeliveryStatus;
  @ApiProperty() attempts: number;
  @ApiProperty({ type: Number, nullable: true, description: "The receiver's last HTTP status" })
  lastStatus: number | null;
  @ApiProperty({ type: String, nullable: true }) lastError: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'When a pending delivery is tried next' })
  nextAttemptAt: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty({ type: String, nullable: true }) deliveredAt: string | null;
}

export function toDeliveryResponse(d: DeliveryRecord): DeliveryResponseDto {
  return {
    ...d,
    nextAttemptAt: d.nextAttemptAt?.toISOString() ?? null,
    createdAt: d.createdAt.toISOString(),
    deliveredAt: d.deliveredAt?.toISOString() ?? null,
  };
}

export class PingResponseDto {
  @ApiProperty({ description: 'Whether the receiver answered 2xx' }) delivered: boolean;
  @ApiProperty({ type: Number, nullable: true }) status: number | null;
  @ApiProperty({ type: String, nullable: true }) error: string | null;
  @ApiProperty() durationMs: number;
}
