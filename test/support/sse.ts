import { IncomingMessage, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestApp } from './app';

/** Has the in-process app listen on 127.0.0.1 (streams are read as they arrive); returns its base URL. */
export async function listening(t: TestApp): Promise<string> {
  if (!t.server.listening) await new Promise<void>((resolve) => t.server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(t.server.address() as AddressInfo).port}`;
}

export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

/** One server-sent event stream, parsed as it arrives: messages, comment lines, and whether it ended. */
export interface SseStream {
  status: number;
  headers: IncomingMessage['headers'];
  /** The body when the answer was not a stream (a problem document). */
  body: string;
  messages: SseMessage[];
  comments: string[];
  ended: boolean;
  /** Commit events' data, parsed. */
  events(): { seq: number; id: string; [key: string]: unknown }[];
  /** Resolves once `predicate` holds (checked as each message arrives), or rejects after timeoutMs. */
  until(predicate: (s: SseStream) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): void;
}

/** Opens `url` (absolute, on 127.0.0.1) as an event stream with the given headers. */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } });
    req.on('error', reject);
    req.on('response', (res) => {
      const waiters = new Set<() => void>();
      const stream: SseStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: '',
        messages: [],
        comments: [],
        ended: false,
        events: () =>
          stream.messages.filter((m) => m.event === 'commit').map((m) => JSON.parse(m.data) as never),
        until: (predicate, timeoutMs = 10_000, what = 'condition') =>
          new Promise<void>((done, fail) => {
            if (predicate(stream)) return done();
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(
                new Error(`SSE: ${what} not met within ${timeoutMs} ms (${stream.messages.length} messages)`),
              );
            }, timeoutMs);
            const check = () => {
              if (!predicate(stream)) return;
              clearTimeout(timer);
              waiters.delete(check);
              done();
            };
            waiters.add(check);
          }),
        close: () => {
          req.destroy();
          res.destroy();
        },
      };
      const notify = () => {
        for (const waiter of [...waiters]) waiter();
      };
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (stream.status !== 200) {
          stream.body += chunk;
          return;
        }
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const message: SseMessage = { event: 'message', data: '' };
          const data: string[] = [];
          let fields = 0;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) stream.comments.push(line.slice(1).trim());
            const colon = line.indexOf(':');
            if (colon <= 0) continue;
            const [field, value] = [line.slice(0, colon), line.slice(colon + 1).replace(/^ /, '')];
            fields++;
            if (field === 'id') message.id = value;
            else if (field === 'event') message.event = value;
            else if (field === 'data') data.push(value);
            else fields--;
          }
          message.data = data.join('\n');
          if (fields > 0 && (data.length > 0 || message.event !== 'message')) stream.messages.push(message);
        }
        notify();
      });
      const ended = () => {
        stream.ended = true;
        notify();
      };
      res.on('end', ended);
      res.on('close', ended);
      if (stream.status !== 200) res.on('end', () => resolve(stream));
      else resolve(stream);
    });
    req.end();
  });
}
