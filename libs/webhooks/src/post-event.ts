import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { receiverLookup } from './receiver-address';

/** WEBHOOK_TIMEOUT_MS and WEBHOOK_ALLOW_PRIVATE_TARGETS, as the configuration has them. */
export interface PostOptions {
  timeoutMs: number;
  allowPrivateTargets: boolean;
}

/** A receiver acknowledges with a 2xx; anything else is a failed try. */
export const isAcknowledged = (status: number): boolean => status >= 200 && status <= 299;

/** A receiver that did not answer in time. */
export class ReceiverTimeout extends Error {}

/** Of a receiver's answer, only this much is read (and kept, shortened, as the delivery's last error). */
const MAX_ANSWER_BYTES = 4096;

/**
 * POSTs a JSON body and resolves to the receiver's status and the start of its answer. The whole exchange
 * is bounded by timeoutMs; redirects are not followed (a 3xx is an answer like any other); the address
 * connected to must be public unless private targets are allowed (receiverLookup).
 */
export function postEvent(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: PostOptions,
): Promise<{ status: number; answer: string }> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(target, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      lookup: receiverLookup(options.allowPrivateTargets),
      agent: false, // one connection per delivery: a receiver cannot hold pooled sockets hostage
    });
    const timer = setTimeout(() => {
      req.destroy(new ReceiverTimeout(`no answer within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < MAX_ANSWER_BYTES) chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () => {
        clearTimeout(timer);
        const answer = Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8');
        resolve({ status: res.statusCode ?? 0, answer });
      });
      res.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    req.end(body);
  });
}
