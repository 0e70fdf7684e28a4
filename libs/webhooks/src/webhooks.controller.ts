import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Actor, CurrentActor, RequireRole } from '@oms/auth';
import { ApiProblems, apiPath, linkNextPage, responseHeaders } from '@oms/http';
import { Shed } from '@oms/resilience';
import type { Request, Response } from 'express';
import {
  CreateWebhookDto,
  CreatedWebhookDto,
  DeliveriesQueryDto,
  DeliveryResponseDto,
  PingResponseDto,
  WebhookResponseDto,
  toDeliveryResponse,
  toWebhookResponse,
} from './webhooks.dto';
import { WebhooksService } from './webhooks.service';

@ApiTags('webhooks')
@ApiBearerAuth()
@RequireRole('admin')
@Shed()
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({
    summary: "Subscribe a receiver to branches' commits (admin)",
    description:
      'Each commit on the branches is POSTed to the URL as its event JSON, signed per Standard Webhooks ' +
      '(webhook-id, webhook-timestamp, webhook-signature), at least once and in seq order per branch. The ' +
      'secret is in this answer only. See docs/change-feed.md.',
  })
  @ApiCreatedResponse({ type: CreatedWebhookDto, headers: responseHeaders('Location') })
  @ApiProblems(400, 403, 409)
  async create(
    @Body() body: CreateWebhookDto,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CreatedWebhookDto> {
    const webhook = await this.webhooks.create(body, actor.username);
    res.location(apiPath('webhooks', webhook.id));
    return { ...toWebhookResponse(webhook), secret: webhook.secret };
  }

  @Get()
  @ApiOperation({ summary: 'List webhooks (admin; secrets are never shown again)' })
  @ApiOkResponse({ type: [WebhookResponseDto] })
  @ApiProblems(403)
  async list(): Promise<WebhookResponseDto[]> {
    return (await this.webhooks.list()).map(toWebhookResponse);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a webhook (admin)' })
  @ApiOkResponse({ type: WebhookResponseDto })
  @ApiProblems(403, 404)
  async get(@Param('id') id: string): Promise<WebhookResponseDto> {
    return toWebhookResponse(await this.webhooks.get(id));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a webhook and its queued deliveries (admin)' })
  @ApiNoContentResponse()
  @ApiProblems(403, 404)
  delete(@Param('id') id: string): Promise<void> {
    return this.webhooks.delete(id);
  }

  @Post(':id/ping')
  @HttpCode(200)
  @ApiOperation({ summary: 'Send a signed ping now and tell what the receiver answered (admin)' })
  @ApiOkResponse({ type: PingResponseDto })
  @ApiProblems(403, 404)
  ping(@Param('id') id: string): Promise<PingResponseDto> {
    return this.webhooks.ping(id);
  }

  @Get(':id/deliveries')
  @ApiOperation({ summary: "A webhook's deliveries, newest first: attempts, last status, next try (admin)" })
  @ApiOkResponse({ type: [DeliveryResponseDto], headers: responseHeaders('Link') })
  @ApiProblems(400, 403, 404)
  async deliveries(
    @Param('id') id: string,
    @Query() query: DeliveriesQueryDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<DeliveryResponseDto[]> {
    const page = await this.webhooks.deliveries(id, query);
    if (page.nextCursor) {
      linkNextPage(req, res, {
        ...(query.status ? { status: query.status } : {}),
        limit: String(query.limit ?? 50),
        cursor: page.nextCursor,
      });
    }
    return page.items.map(toDeliveryResponse);
  }

  @Post(':id/deliveries/:deliveryId/redeliver')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Queue a delivery again, attempts counted afresh, whatever its status (admin)',
    description: 'It goes out in seq order: before any later event of its branch still pending.',
  })
  @ApiAcceptedResponse({ type: DeliveryResponseDto })
  @ApiProblems(403, 404)
  async redeliver(
    @Param('id') id: string,
    @Param('deliveryId') deliveryId: string,
  ): Promise<DeliveryResponseDto> {
    return toDeliveryResponse(await this.webhooks.redeliver(id, deliveryId));
  }
}
