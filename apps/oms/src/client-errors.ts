import { STATUS_CODES, Server } from 'node:http';
import type { Socket } from 'node:net';
import { PROBLEM_CONTENT_TYPE, problemType } from '@oms/http';

/** Node's parser errors that are the client's, with the status RFC 9110 gives them. */
const STATUS_BY_CODE: Record<string, { status: number; slug: string; detail: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    slug: 'request-header-fields-too-large',
    detail: 'The request headers are larger than the server accepts.',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    slug: 'request-timeout',
    detail: 'The request was not received in time.',
  },
};

/**
 * Requests Node rejects before Express sees them (headers too large, a malformed request line) still
 * answer application/problem+json, like every other error; Node's default is a bare status line.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const known = STATUS_BY_CODE[error.code ?? ''] ?? {
      status: 400,
      slug: 'bad-request',
      detail: 'The request is not valid HTTP.',
    };
    const body = JSON.stringify({
      type: problemType(known.slug),
      title: STATUS_CODES[known.status],
      status: known.status,
      detail: known.detail,
    });
    socket.end(
      `HTTP/1.1 ${known.status} ${STATUS_CODES[known.status]}\r\n` +
        `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
