/** What became of one delivery try, as webhook_deliveries_total counts it. */
export const DELIVERY_OUTCOMES = [
  'delivered',
  'failed',
  'timeout',
  'dead_lettered',
  'gone',
  'breaker_open',
] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/** What webhook delivery reports (the metrics module turns it into the webhook_* series). */
export interface WebhookEvents {
  attempted(outcome: DeliveryOutcome): void;
  /** From the commit to the receiver's 2xx. */
  delivered(lagSeconds: number): void;
  /** Pending and dead-lettered deliveries over every webhook (the database's figures). */
  backlog(pending: number, dead: number): void;
}

export const WEBHOOK_EVENTS = Symbol('WebhookEvents');

export const NO_WEBHOOK_EVENTS: WebhookEvents = {
  attempted: () => undefined,
  delivered: () => undefined,
  backlog: () => undefined,
};
