import { IncomingHttpHeaders, Server, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** The status it was answered (0 when the receiver dropped the connection instead). */
  status: number;
  at: number;
}

/** How the receiver answers one call: a status after a delay, or 'drop' to close the connection. */
export type Behaviour = (
  call: number,
  req: { headers: IncomingHttpHeaders; body: string },
) => { status: number; delayMs?: number } | 'drop';

/**
 * A webhook receiver on 127.0.0.1: records every call and answers as `behave` says. `down()` closes it
 * (connections refused), `up()` listens again on the same port.
 */
export class Receiver {
  readonly calls: Received[] = [];
  behave: Behaviour = () => ({ status: 200 });
  private server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor() {
    this.server = this.make();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Calls answered 2xx. */
  acknowledged(): Received[] {
    return this.calls.filter((c) => c.status >= 200 && c.status < 300);
  }

  async up(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async down(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server = this.make();
  }

  private make(): Server {
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const call = this.calls.length;
        const answer = this.behave(call, { headers: req.headers, body });
        const record: Received = { headers: req.headers, body, status: 0, at: Date.now() };
        this.calls.push(record);
        if (answer === 'drop') return req.socket.destroy();
        setTimeout(() => {
          record.status = answer.status;
          res.writeHead(answer.status, { 'content-type': 'text/plain' }).end('ok');
        }, answer.delayMs ?? 0);
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    return server;
  }
}
