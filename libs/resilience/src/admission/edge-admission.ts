import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { AdmissionController } from './admission-controller';

/** A branch's change feed: a stream held open for as long as its consumer reads (SSE_MAX_STREAMS bounds them). */
const EVENT_STREAM = /^\/api\/v1\/branches\/[^/?]+\/events(?:\?|$)/;

/**
 * Health probes and the API's documentation are never refused (metrics have their own port); nor are
 * event streams, which would hold an admission slot for hours and skew its latency signal.
 */
export const isExemptFromAdmission = (url: string): boolean =>
  url.startsWith('/health/') || url.startsWith('/docs') || EVENT_STREAM.test(url);

const REJECTION_HEADERS = [
  'content-type',
  'application/problem+json',
  'retry-after',
  '1',
  'cache-control',
  'no-store',
  'x-content-type-options',
  'nosniff',
];
/** The problem document, serialized once; only `instance` is filled in per request. */
const REJECTION_BODY_HEAD = `${JSON.stringify({
  type: 'urn:oms:problem:unavailable',
  title: 'Service unavailable',
  status: 503,
  detail: 'The server is at capacity: the request was refused before it was read. Retry after a second.',
  reason: 'admission',
}).slice(0, -1)},"instance":`;

function refuse(request: IncomingMessage, response: ServerResponse): void {
  const body = `${REJECTION_BODY_HEAD}${JSON.stringify(request.url ?? '/')}}`;
  response.writeHead(503, [...REJECTION_HEADERS, 'content-length', String(Buffer.byteLength(body))]);
  response.end(body);
}

/**
 * Puts admission in front of everything the server runs for a request: the one 'request' listener
 * (Express, with Nest behind it) is replaced by one that asks the controller first. A refused request
 * costs its HTTP parse and a pre-serialized 503: no body parsing, no auth, no routing, no store. Node
 * discards a refused request's body itself once the response is done, so keep-alive goes on.
 */
export function admitAtTheEdge(server: Server, admission: AdmissionController): void {
  const listeners = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  if (listeners.length !== 1)
    throw new Error(`edge admission expects one 'request' listener on the server, found ${listeners.length}`);
  const [handle] = listeners as [(req: IncomingMessage, res: ServerResponse) => void];
  server.removeListener('request', handle);
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (isExemptFromAdmission(request.url ?? '/')) return handle(request, response);
    if (!admission.tryAcquire()) return refuse(request, response);
    response.on('close', admission.release);
    handle(request, response);
  });
}
