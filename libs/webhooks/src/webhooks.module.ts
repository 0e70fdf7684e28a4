import { Module } from '@nestjs/common';
import { DeliveryDispatcher } from './delivery-dispatcher';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/** Webhooks: operators subscribe receivers to branches; the dispatcher delivers every commit's event. */
@Module({
  controllers: [WebhooksController],
  providers: [WebhooksService, DeliveryDispatcher],
})
export class WebhooksModule {}
