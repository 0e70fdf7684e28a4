import { Inject, Injectable } from '@nestjs/common';
import { NotFound, StateConflict, ValidationFailed, bodyPointer } from '@oms/common';
import { OmsConfig } from '@oms/config';
import { decodeBeforeCursor, encodeBeforeCursor } from '@oms/http';
import { BreakerRegistry } from '@oms/resilience';
import { DeliveryRecord, DeliveryStatus, WEBHOOK_STORE, WebhookRecord, WebhookStore } from '@oms/store';
import { randomUUID } from 'node:crypto';
import { DeliveryDispatcher, breakerOf } from './delivery-dispatcher';
import { isAcknowledged, postEvent } from './post-event';
import { refuseReceiver } from './receiver-address';
import { newSecret, signedHeaders } from './signing';
import { CreateWebhookDto, PingResponseDto } from './webhooks.dto';

/** Delivery ids are the outbox's row numbers. */
const DELIVERY_ID = /^[1-9]\d{0,17}$/;

/** Webhooks for operators: made, listed, removed, pinged; their deliveries inspected and sent again. */
@Injectable()
export class WebhooksService {
  constructor(
    @Inject(WEBHOOK_STORE) private readonly store: WebhookStore,
    private readonly breakers: BreakerRegistry,
    private readonly config: OmsConfig,
    private readonly dispatcher: DeliveryDispatcher,
  ) {}

  async create(body: CreateWebhookDto, createdBy: string): Promise<WebhookRecord & { secret: string }> {
    const refused = await refuseReceiver(body.url, this.config.webhooks.allowPrivateTargets);
    if (refused) throw new ValidationFailed([{ path: bodyPointer('/url'), message: refused }]);
    const { max } = this.config.webhooks;
    if ((await this.store.count()) >= max) {
      throw new StateConflict('Too many webhooks', `At most ${max} webhooks may exist (WEBHOOKS_MAX).`);
    }
    const secret = body.secret ?? newSecret();
    const webhook = await this.store.create({
      id: randomUUID(),
      url: body.url,
      branches: body.branches,
      secret,
      createdBy,
    });
    return { ...webhook, secret };
  }

  list(): Promise<WebhookRecord[]> {
    return this.store.list();
  }

  async get(id: string): Promise<WebhookRecord> {
    const webhook = await this.store.get(id);
    if (!webhook) throw new NotFound('Webhook', id);
    return webhook;
  }

  /** Its pending deliveries go with it. */
  async delete(id: string): Promise<void> {
    if (!(await this.store.delete(id))) throw new NotFound('Webhook', id);
    this.breakers.forget(breakerOf(id));
  }

  /** Sends a signed `ping` now, outside the queue and the breaker, and tells what the receiver said. */
  async ping(id: string): Promise<PingResponseDto> {
    const [webhook, secret] = [await this.get(id), await this.store.secret(id)];
    const body = JSON.stringify({ type: 'ping', webhookId: id, sentAt: new Date().toISOString() });
    const headers = signedHeaders(secret ?? '', `ping_${randomUUID()}`, body);
    const started = performance.now();
    try {
      const { status } = await postEvent(webhook.url, headers, body, this.config.webhooks);
      return {
        delivered: isAcknowledged(status),
        status,
        error: null,
        durationMs: Math.round(performance.now() - started),
      };
    } catch (error) {
      return {
        delivered: false,
        status: null,
        error: error instanceof Error ? error.message : String(error),
        durationMs: Math.round(performance.now() - started),
      };
    }
  }

  async deliveries(
    id: string,
    query: { status?: DeliveryStatus; limit?: number; cursor?: string },
  ): Promise<{ items: DeliveryRecord[]; nextCursor: string | null }> {
    await this.get(id);
    const before = query.cursor === undefined ? undefined : String(decodeBeforeCursor(query.cursor));
    const page = await this.store.deliveries(id, { status: query.status, limit: query.limit ?? 50, before });
    return { items: page.items, nextCursor: page.next ? encodeBeforeCursor(Number(page.next)) : null };
  }

  async redeliver(id: string, deliveryId: string): Promise<DeliveryRecord> {
    await this.get(id);
    const delivery = DELIVERY_ID.test(deliveryId) ? await this.store.redeliver(id, deliveryId) : null;
    if (!delivery) throw new NotFound('Delivery', deliveryId, `of webhook '${id}'`);
    this.dispatcher.kick();
    return delivery;
  }
}
