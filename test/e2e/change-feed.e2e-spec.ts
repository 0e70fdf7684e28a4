import { connect } from 'node:net';
import type { FeedEvent } from '@oms/store';
import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { SseStream, listening, openSse } from '../support/sse';
import { storeTargets } from '../support/store-targets';
import { eventually } from '../support/eventually';

const PROBLEM = /^application\/problem\+json/;

describe.each(storeTargets())('change feed on $name', (target) => {
  let t: TestApp;
  let base: string;
  let make: ReturnType<typeof given>;
  const open: SseStream[] = [];
  beforeAll(async () => {
    t = await startTestApp(target, { SSE_HEARTBEAT_SECONDS: '0.2', SSE_MAX_STREAMS: '4' });
    base = await listening(t);
    make = given(t);
  });
  afterEach(() => {
    for (const stream of open.splice(0)) stream.close();
  });
  afterAll(() => t?.close());

  const sse = async (branch: string, query = '', headers: Record<string, string> = {}) => {
    const stream = await openSse(`${base}/api/v1/branches/${branch}/events${query}`, {
      ...t.as('viewer'),
      ...headers,
    });
    open.push(stream);
    return stream;
  };
  const events = (s: SseStream) => s.events() as unknown as FeedEvent[];
  const untilSeq = (s: SseStream, seq: number) =>
    s.until((x) => events(x).some((e) => e.seq >= seq), 10_000, `event ${seq}`);
  const commits = async (branch: string) =>
    (await t.http.get(`/api/v1/branches/${branch}/commits?limit=1000`).set(t.as('viewer')).expect(200))
      .body as { id: string; parents: string[]; author: string; message: string }[];
  const editor = () => t.as('editor');

  it('tells every commit once, in seq order, with its parents, author, message and what it changed', async () => {
    await make.branch('feed-a');
    const stream = await sse('feed-a', '?since=0');
    await make.type('Thing', [{ name: 'n', dataType: 'integer' }], 'feed-a');
    const one = await make.document('Thing', { n: 1 }, 'one', 'feed-a');
    await make.document('Thing', { n: 2 }, 'two', 'feed-a');
    await t.http
      .patch('/api/v1/documents/crud/one?branch=feed-a')
      .set(editor())
      .set('Content-Type', 'application/merge-patch+json')
      .send({ properties: { n: 10 } })
      .expect(200);
    await t.http.delete('/api/v1/documents/crud/two?branch=feed-a').set(editor()).expect(204);
    await untilSeq(stream, 5);

    const got = events(stream);
    expect(got.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(stream.messages.filter((m) => m.event === 'commit').map((m) => m.id)).toEqual([
      '1',
      '2',
      '3',
      '4',
      '5',
    ]);
    // The events are the branch's own commits since it was made, newest last, with their facts.
    const history = (await commits('feed-a')).slice(0, 5).reverse();
    expect(got.map((e) => e.id)).toEqual(history.map((c) => c.id));
    for (const [i, event] of got.entries()) {
      expect(event).toMatchObject({
        branch: 'feed-a',
        parents: history[i]!.parents,
        author: history[i]!.author,
        message: history[i]!.message,
        truncated: false,
      });
      expect(Date.parse(event.createdAt)).not.toBeNaN();
    }
    expect(got[0]!.summary).toEqual({ schema: { added: 1, modified: 0, removed: 0 }, documents: {} });
    expect(got[0]!.changes).toEqual([{ kind: 'objectType', objectType: 'Thing', id: 'Thing', op: 'added' }]);
    expect(got[1]!.changes).toEqual([{ kind: 'document', objectType: 'Thing', id: one.id, op: 'added' }]);
    expect(got[3]!.summary.documents).toEqual({ Thing: { added: 0, modified: 1, removed: 0 } });
    expect(got[4]!.changes).toEqual([{ kind: 'document', objectType: 'Thing', id: 'two', op: 'removed' }]);
  });

  it('lists the first 1,000 changes of a large commit and counts them all', async () => {
    await make.branch('feed-bulk');
    await make.type('Row', [{ name: 'n', dataType: 'integer' }], 'feed-bulk');
    const stream = await sse('feed-bulk', '?since=1');
    const lines = Array.from({ length: 1_001 }, (_, n) =>
      JSON.stringify({ objectType: 'Row', id: `r${n}`, properties: { n } }),
    ).join('\n');
    await t.http
      .post('/api/v1/documents/bulk?branch=feed-bulk')
      .set(editor())
      .set('Content-Type', 'application/x-ndjson')
      .send(lines)
      .expect((res) => expect(res.status).toBeLessThan(300));
    await untilSeq(stream, 2);
    const [event] = events(stream);
    expect(event!.summary.documents).toEqual({ Row: { added: 1_001, modified: 0, removed: 0 } });
    expect(event!.changes).toHaveLength(1_000);
    expect(event!.truncated).toBe(true);
  });

  it('tells merge commits (two parents) and fast-forwards like any commit', async () => {
    await make.branch('ff-target');
    await make.branch('ff-source', 'ff-target');
    await make.type('Ff', [{ name: 'n', dataType: 'integer' }], 'ff-source');
    await make.document('Ff', { n: 1 }, 'f1', 'ff-source');
    const stream = await sse('ff-target', '?since=0');
    await t.http
      .post('/api/v1/branches/ff-target/merges')
      .set(editor())
      .send({ source: 'ff-source' })
      .expect(201);
    await untilSeq(stream, 1);
    const [ff] = events(stream);
    const sourceHead = (await commits('ff-source'))[0]!;
    expect(ff).toMatchObject({ id: sourceHead.id, branch: 'ff-target', message: sourceHead.message });
    expect(ff!.summary).toEqual({
      schema: { added: 1, modified: 0, removed: 0 },
      documents: { Ff: { added: 1, modified: 0, removed: 0 } },
    });

    // Diverged: a merge commit with both heads as parents.
    await make.document('Ff', { n: 2 }, 'f2', 'ff-source');
    await make.document('Ff', { n: 3 }, 'f3', 'ff-target');
    await t.http
      .post('/api/v1/branches/ff-target/merges')
      .set(editor())
      .send({ source: 'ff-source' })
      .expect(201);
    await untilSeq(stream, 3);
    const merge = events(stream)[2]!;
    const [targetHead] = await commits('ff-target');
    expect(merge.id).toBe(targetHead!.id);
    expect(merge.parents).toHaveLength(2);
    expect(merge.changes).toEqual([{ kind: 'document', objectType: 'Ff', id: 'f2', op: 'added' }]);
  });

  it('resumes after Last-Event-ID or ?since with no gap and no duplicate; Last-Event-ID wins', async () => {
    await make.branch('resume');
    await make.type('R', [], 'resume');
    for (const id of ['a', 'b', 'c', 'd']) await make.document('R', {}, id, 'resume');
    const fromHeader = await sse('resume', '?since=0', { 'Last-Event-ID': '3' });
    const fromQuery = await sse('resume', '?since=2');
    await untilSeq(fromHeader, 5);
    await untilSeq(fromQuery, 5);
    expect(events(fromHeader).map((e) => e.seq)).toEqual([4, 5]);
    expect(events(fromQuery).map((e) => e.seq)).toEqual([3, 4, 5]);
    // Without either, only what comes next.
    const fresh = await sse('resume');
    await make.document('R', {}, 'e', 'resume');
    await untilSeq(fresh, 6);
    expect(events(fresh).map((e) => e.seq)).toEqual([6]);
  });

  it('sends a comment heartbeat while quiet', async () => {
    const stream = await sse('main');
    await stream.until((s) => s.comments.filter((c) => c === 'heartbeat').length >= 2, 5_000, 'heartbeats');
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(stream.headers['cache-control']).toBe('no-store');
  });

  it('refuses what is not a stream it can serve, with problems', async () => {
    const missing = await sse('no-such-branch');
    expect([missing.status, missing.headers['content-type']]).toEqual([404, expect.stringMatching(PROBLEM)]);
    const bad = await sse('main', '', { 'Last-Event-ID': 'yesterday' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).errors).toEqual([
      { path: '/header/Last-Event-ID', message: expect.stringMatching(/integer/) },
    ]);
    expect((await sse('main', '?since=-1')).status).toBe(400);
    const anonymous = await openSse(`${base}/api/v1/branches/main/events`);
    open.push(anonymous);
    expect(anonymous.status).toBe(401);
  });

  it('holds at most SSE_MAX_STREAMS streams, then 503 with Retry-After, and frees a slot when one closes', async () => {
    const held = [await sse('main'), await sse('main'), await sse('main'), await sse('main')];
    expect(held.map((s) => s.status)).toEqual([200, 200, 200, 200]);
    const refused = await sse('main');
    expect(refused.status).toBe(503);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    const metrics = (await t.metrics.get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^sse_streams 4$/m);
    held[0]!.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await sse('main')).status).toBe(200);
  });
});

// One target is enough to prove the bound (the stream's code is the store's client of either).
describe(`slow consumers, on ${storeTargets()[0]!.name}`, () => {
  let t: TestApp;
  let base: string;
  // 32 commits of 1,000 documents with long ids: events of about 180 KB, 5.8 MB in all, more than the 64 KiB
  // a stream may hold here plus what loopback's socket buffers take for a reader that does not read (3.9 MB,
  // measured: the kernel takes that much before the stream's own buffer starts to fill).
  const imports = 32;
  const streams = async () => Number(/^sse_streams (\d+)/m.exec((await t.metrics.get('/metrics')).text)?.[1]);
  beforeAll(async () => {
    t = await startTestApp(storeTargets()[0]!, { SSE_MAX_BUFFER_BYTES: '65536', SSE_HEARTBEAT_SECONDS: '1' });
    base = await listening(t);
    await given(t).type('Big', []);
    for (let i = 0; i < imports; i++) {
      const lines = Array.from({ length: 1_000 }, (_, n) =>
        JSON.stringify({ objectType: 'Big', id: `${'x'.repeat(115)}-${i}-${n}`, properties: {} }),
      ).join('\n');
      await t.http
        .post('/api/v1/documents/bulk')
        .set(t.as('editor'))
        .set('Content-Type', 'application/x-ndjson')
        .send(lines)
        .expect((res) => expect(res.status).toBeLessThan(300));
    }
  }, 120_000);
  afterAll(() => t?.close());

  it('lets a consumer that reads catch up on more than its buffer, without overflow', async () => {
    const stream = await openSse(`${base}/api/v1/branches/main/events?since=0`, t.as('viewer'));
    await stream.until((s) => s.events().length === imports + 1, 20_000, 'every event');
    expect(stream.events().map((e) => e.seq)).toEqual(Array.from({ length: imports + 1 }, (_, i) => i + 1));
    expect(stream.messages.some((m) => m.event === 'overflow')).toBe(false);
    stream.close();
  });

  it('costs a consumer that never reads a bounded buffer: the stream stops reading the log, sends overflow with the last seq, and ends', async () => {
    const { port } = new URL(base);
    const socket = connect(Number(port), '127.0.0.1');
    socket.pause(); // reads nothing until told
    socket.write(
      `GET /api/v1/branches/main/events?since=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
        `Authorization: ${t.as('viewer').Authorization}\r\nAccept: text/event-stream\r\n\r\n`,
    );
    // The stream opens, fills its buffer, waits a heartbeat interval for the consumer, and gives up on it.
    await eventually(async () => (await streams()) === 1, 5_000, 'the stream to open');
    await eventually(async () => (await streams()) === 0, 15_000, 'the stream to end');
    // Now read what was buffered: events in order with no gap, then the overflow, then the end.
    const received = await new Promise<string>((resolve) => {
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text));
      setTimeout(() => resolve(text), 10_000);
      socket.resume();
    });
    socket.destroy();
    const blocks = received.split('\n\n');
    const seqs = blocks.flatMap((b) => /^id: (\d+)$/m.exec(b)?.[1] ?? []).map(Number);
    const overflow = blocks.find((b) => b.includes('event: overflow'));
    expect(overflow).toBeDefined();
    const { lastSeq } = JSON.parse(/^data: (.*)$/m.exec(overflow!)![1]!) as { lastSeq: number };
    expect(seqs).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
    // It stopped well short of the log's end: what it held for the consumer was bounded.
    expect(lastSeq).toBeLessThan(imports);
    expect(Buffer.byteLength(received)).toBeLessThan(imports * 170_000);
  });
});
