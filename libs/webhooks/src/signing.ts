import { Webhook } from 'standardwebhooks';
import { randomBytes } from 'node:crypto';

/** A new signing secret: 32 random bytes, as Standard Webhooks writes them (`whsec_<base64>`). */
export const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/** The Standard Webhooks headers of one message (webhook-id, -timestamp, -signature), signed by the library. */
export function signedHeaders(secret: string, messageId: string, body: string): Record<string, string> {
  const at = new Date();
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(messageId, at, body),
    'user-agent': 'OMS-Webhooks/1',
  };
}
