import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { SEED_TYPES, World, nested } from '../support/hostile';
import { base64url, canonical } from '../support/hostile-checks';
import { ALL_CLOSED, Answer, DOCS, Raw, hostileClient, parse, seedWorld } from '../support/hostile-runner';
import { storeTargets } from '../support/store-targets';

/**
 * Hostile input, in production configuration (breakers open after 3 consecutive failures): a bounded,
 * seeded fuzz run over every route as a viewer and as an editor (generators in test/support/hostile.ts),
 * and one named test per case of the issue. Every answer is < 500, every error a problem document without
 * internals, no breaker leaves closed, and every value a write accepted reads back identical (keys
 * included) — or was refused with 400.
 *
 * A failure names its seed and request number; replay it with
 *   HOSTILE_SEED=<seed> [HOSTILE_RUNS=<n>] [HOSTILE_VERBOSE=1] npx jest test/e2e/hostile-input.e2e-spec.ts
 */
const SEED = Number(process.env.HOSTILE_SEED ?? 0x0a11ce);
const RUNS = Number(process.env.HOSTILE_RUNS ?? 1000);
const MERGE_PATCH = 'application/merge-patch+json';

describe.each(storeTargets())('hostile input on $name', (target) => {
  let t: TestApp;
  let world: World;
  let client: ReturnType<typeof hostileClient>;
  const send = (request: Raw, role?: 'viewer' | 'editor') => client.send(request, role);
  const json = (...args: Parameters<typeof client.json>) => client.json(...args);
  const answerFaults = (request: Raw, answer: Answer) => client.answerFaults(request, answer);

  beforeAll(async () => {
    // Production defaults (breakers open after 3 failures, no fault injection); logs only errors.
    t = await startTestApp(target, { OMS_ENV: 'production', LOG_LEVEL: 'error' });
    client = hostileClient(t);
    world = await seedWorld(t);
  }, 120_000);
  afterAll(() => t?.close());
  // Each test starts with closed breakers, so one test's damage does not fail the next...
  beforeEach(() => client.resetBreakers());
  // ...and each must leave them closed.
  afterEach(async () => expect(await client.breakerStates()).toEqual(ALL_CLOSED));

  describe('fuzz', () => {
    it.each(['viewer', 'editor'] as const)(
      `survives ${RUNS} hostile requests by the %s over every route: no 5xx, only problem documents, breakers closed, accepted values read back identical`,
      async (role) => {
        const seed = role === 'viewer' ? SEED : SEED + 1;
        expect(await client.fuzz(world, target.name, role, seed, RUNS)).toEqual([]);
        expect(await client.breakerStates()).toEqual(ALL_CLOSED);
      },
      300_000,
    );
  });

  describe('NUL and invalid bytes in path and query parameters', () => {
    it.each([
      ['/api/v1/branches/x%00', '/api/v1/branches'],
      ['/api/v1/branches/x%00/commits', '/api/v1/branches/main/commits'],
      ['/api/v1/schemas/x%00/object-types', '/api/v1/schemas/main/object-types'],
      ['/api/v1/schemas/main/object-types/X%00', '/api/v1/schemas/main/object-types/Everything'],
      [`${DOCS}/x%00`, `${DOCS}/every-1`],
      [`${DOCS}?branch=x%00`, `${DOCS}?branch=main`],
      [`${DOCS}/every-1?branch=%ED%A0%80`, `${DOCS}/every-1`],
    ])(
      'answers GET %s three times by a viewer with 400 or 404, leaves the store breaker closed, and GET %s still answers 200',
      async (hostile, normal) => {
        for (let i = 0; i < 3; i++) {
          const res = await send({ method: 'GET', path: hostile }, 'viewer');
          expect(answerFaults({ method: 'GET', path: hostile }, res)).toEqual([]);
          expect([400, 404]).toContain(res.status);
        }
        expect((await send({ method: 'GET', path: normal }, 'viewer')).status).toBe(200);
      },
    );

    it.each([
      ['a NUL id', 'id', { sort: 'id', id: 'x\u0000' }],
      ['a lone-surrogate id', 'id', { sort: 'id', id: '\ud800' }],
      [
        'createdAt +099999-01-01T00:00:00.000Z',
        'createdAt',
        { sort: 'createdAt', id: 'a', createdAt: '+099999-01-01T00:00:00.000Z' },
      ],
      [
        'createdAt -271821-04-20T00:00:00.000Z',
        '-createdAt',
        { sort: '-createdAt', id: 'a', createdAt: '-271821-04-20T00:00:00.000Z' },
      ],
      [
        'createdAt 0000-01-01T00:00:00Z',
        'createdAt',
        { sort: 'createdAt', id: 'a', createdAt: '0000-01-01T00:00:00Z' },
      ],
    ])('answers a document cursor with %s with 400', async (_label, sort, cursor) => {
      const path = `${DOCS}?objectType=Everything&sort=${sort}&cursor=${base64url(JSON.stringify(cursor))}`;
      for (let i = 0; i < 3; i++) {
        const res = await send({ method: 'GET', path }, 'viewer');
        expect(answerFaults({ method: 'GET', path }, res)).toEqual([]);
        expect(res.status).toBe(400);
      }
    });

    it.each(['data', 'blobs'])(
      'answers a 5,000-deep array in the json filter property.%s= with 400',
      async (property) => {
        const path = `${DOCS}?objectType=Everything&property.${property}=${nested(5000, 'array')}`;
        for (let i = 0; i < 3; i++) {
          const res = await send({ method: 'GET', path }, 'viewer');
          expect(answerFaults({ method: 'GET', path }, res)).toEqual([]);
          expect(res.status).toBe(400);
        }
      },
    );

    it('answers a NUL in a string filter with 400 or an empty page', async () => {
      const path = `${DOCS}?objectType=Everything&property.label=x%00`;
      for (let i = 0; i < 3; i++) {
        const res = await send({ method: 'GET', path }, 'viewer');
        expect(answerFaults({ method: 'GET', path }, res)).toEqual([]);
        if (res.status === 200) expect(parse(res.text).items).toEqual([]);
        else expect(res.status).toBe(400);
      }
    });
  });

  describe('values no store can keep are refused with 400 at their path', () => {
    const cases: [string, string, string][] = [
      ['\\u0000 in a string property', '"label":"a\\u0000b"', '/properties/label'],
      ['\\ud800 in a string property', '"label":"a\\ud800b"', '/properties/label'],
      ['\\u0000 in a string array item', '"label":"ok","tags":["fine","\\u0000"]', '/properties/tags/1'],
      ['\\u0000 inside a json value', '"label":"ok","data":{"a":["x\\u0000"]}', '/properties/data/a/0'],
      ['\\ud800 inside a json value', '"label":"ok","data":{"a":["\\ud800"]}', '/properties/data/a/0'],
      [
        '\\u0000 in a key inside a json value',
        '"label":"ok","data":{"k\\u0000":1}',
        '/properties/data/k\u0000',
      ],
      ['1e400 inside a json value', '"label":"ok","data":{"n":1e400}', '/properties/data/n'],
    ];
    let refused = 0;
    it.each(
      (['POST', 'PUT', 'PATCH'] as const).flatMap((method) => cases.map((c) => [method, ...c] as const)),
    )(
      'answers %s with %s with 400 whose errors[].path points at the value, and stores nothing',
      async (method, _label, members, pointer) => {
        const id = `refused-${++refused}`;
        if (method !== 'POST') await given(t).document('Everything', { label: 'kept' }, id);
        const request: Raw = {
          method,
          path: method === 'POST' ? DOCS : `${DOCS}/${id}`,
          body:
            method === 'POST'
              ? `{"objectType":"Everything","id":"${id}","properties":{${members}}}`
              : `{"properties":{${members}}}`,
        };
        const type = method === 'PATCH' ? MERGE_PATCH : 'application/json';
        const res = await json(method, request.path, request.body as string, 'editor', type);
        expect(answerFaults(request, res)).toEqual([]);
        expect(res.status).toBe(400);
        const paths = ((parse(res.text)?.errors ?? []) as { path: string }[]).map((e) => e.path);
        const at = `/body${pointer}`;
        const field = at.split('/').slice(0, 4).join('/'); // /body/properties/<name>
        expect(paths.filter((p) => p.startsWith(field) && at.startsWith(p))).not.toEqual([]);
        const after = await send({ method: 'GET', path: `${DOCS}/${id}` }, 'viewer');
        if (method === 'POST') expect(after.status).toBe(404);
        else expect(parse(after.text)?.properties).toEqual({ label: 'kept' });
      },
    );

    let types = 0;
    it.each([
      ['a NUL in description', '"description":"a\\u0000b"', '/description', '/description'],
      ['a lone surrogate in displayName', '"displayName":"\\ud800"', '/displayName', '/displayName'],
      [
        'a NUL in an enum value',
        '"properties":[{"name":"e","dataType":"enum","enumValues":["ok","\\u0000"]}]',
        '/properties/0/enumValues/1',
        '/properties/0',
      ],
      [
        'a lone surrogate in a property description',
        '"properties":[{"name":"p","dataType":"string","description":"\\udfff"}]',
        '/properties/0/description',
        '/properties/0',
      ],
    ])(
      'refuses an object type with %s with 400 at its path, and stores nothing',
      async (_label, member, pointer, field) => {
        const name = `Refused${++types}`;
        const body = `{"name":"${name}",${member.startsWith('"properties"') ? member : `${member},"properties":[]`}}`;
        const path = '/api/v1/schemas/main/object-types';
        const res = await json('POST', path, body, 'editor');
        expect(answerFaults({ method: 'POST', path, body }, res)).toEqual([]);
        expect(res.status).toBe(400);
        const paths = ((parse(res.text)?.errors ?? []) as { path: string }[]).map((e) => e.path);
        expect(
          paths.filter((p) => p.startsWith(`/body${field}`) && `/body${pointer}`.startsWith(p)),
        ).not.toEqual([]);
        expect((await send({ method: 'GET', path: `${path}/${name}` }, 'viewer')).status).toBe(404);
      },
    );

    it.each([
      [
        'a login whose username holds a NUL, without a token',
        '/api/v1/auth/login',
        undefined,
        '{"username":"a\\u0000","password":"x"}',
        [400, 401, 429], // 429: wrong logins are throttled
      ],
      [
        'a login whose password is a lone surrogate, without a token',
        '/api/v1/auth/login',
        undefined,
        '{"username":"viewer","password":"\\ud800"}',
        [400, 401, 429], // 429: wrong logins are throttled
      ],
      [
        'a branch created from a NUL name',
        '/api/v1/branches',
        'editor',
        '{"name":"from-nul","from":"main\\u0000"}',
        [400, 404],
      ],
      [
        'a branch created from a lone surrogate',
        '/api/v1/branches',
        'editor',
        '{"name":"from-surrogate","from":"\\udc00"}',
        [400, 404],
      ],
    ] as const)('answers %s three times with a 4xx problem', async (_label, path, role, body, statuses) => {
      for (let i = 0; i < 3; i++) {
        const res = await json('POST', path, body, role);
        expect(answerFaults({ method: 'POST', path, body }, res)).toEqual([]);
        expect(statuses).toContain(res.status);
      }
    });
  });

  describe('deep nesting', () => {
    it.each([
      [10_000, 'POST /api/v1/auth/login without a token', '/api/v1/auth/login', undefined],
      [3_000, 'POST /api/v1/auth/login without a token', '/api/v1/auth/login', undefined],
      [10_000, 'POST /api/v1/documents/crud', DOCS, 'editor'],
      [10_000, 'POST /api/v1/schemas/main/object-types', '/api/v1/schemas/main/object-types', 'editor'],
      [10_000, 'POST /api/v1/branches', '/api/v1/branches', 'editor'],
    ] as const)(
      'answers a body nested %i levels deep on %s with 400, not 500',
      async (depth, _label, path, role) => {
        for (const kind of ['array', 'object', 'mixed'] as const) {
          const body = kind === 'array' ? nested(depth, kind) : `{"username":${nested(depth, kind)}}`;
          const res = await json('POST', path, body, role);
          expect(answerFaults({ method: 'POST', path, body }, res)).toEqual([]);
          expect(res.status).toBe(400);
        }
      },
    );

    it('answers a json property value nested 10,000 levels deep with 400', async () => {
      const body = `{"objectType":"Everything","properties":{"label":"deep","data":${nested(10_000, 'mixed')}}}`;
      const res = await json('POST', DOCS, body, 'editor');
      expect(answerFaults({ method: 'POST', path: DOCS, body }, res)).toEqual([]);
      expect(res.status).toBe(400);
    });
  });

  describe('key names inside json values round-trip literally', () => {
    const ODD =
      '{"constructor":1,"toString":"s","valueOf":[1,2],"hasOwnProperty":{"x":true},"__proto__":{"polluted":true},' +
      '"isPrototypeOf":false,"":"empty","a/b~c":0,"nested":{"__proto__":[{"__proto__":null}],"constructor":{"prototype":{}}}}';
    const BLOBS = '[{"__proto__":1},{"valueOf":2,"toString":{"constructor":[]}}]';
    const expected = { label: 'odd', data: JSON.parse(ODD), blobs: JSON.parse(BLOBS) };

    const members = `"label":"odd","data":${ODD},"blobs":${BLOBS}`;

    /** Sends the write as the editor; the answer, GET and the list all show every key literally. */
    async function expectStoredLiterally(id: string, method: 'POST' | 'PUT' | 'PATCH', body: string) {
      const path = method === 'POST' ? DOCS : `${DOCS}/${id}`;
      const type = method === 'PATCH' ? MERGE_PATCH : 'application/json';
      if (method !== 'POST') await given(t).document('Everything', { label: 'before' }, id);
      const answer = await json(method, path, body, 'editor', type);
      expect(answerFaults({ method, path, body }, answer)).toEqual([]);
      expect(answer.status).toBeLessThan(300);
      expect(canonical(parse(answer.text)?.properties)).toBe(canonical(expected));
      const read = await send({ method: 'GET', path: `${DOCS}/${id}` }, 'viewer');
      expect(canonical(parse(read.text)?.properties)).toBe(canonical(expected));
      const list = await send({ method: 'GET', path: `${DOCS}?objectType=Everything&limit=1000` }, 'viewer');
      const item = (parse(list.text)?.items ?? []).find((d: { id: string }) => d.id === id);
      expect(canonical(item?.properties)).toBe(canonical(expected));
    }

    it('stores constructor, toString, valueOf, hasOwnProperty and __proto__ keys on POST and reads them back', async () => {
      await expectStoredLiterally(
        'odd-post',
        'POST',
        `{"objectType":"Everything","id":"odd-post","properties":{${members}}}`,
      );
    });

    it('stores them on PUT and reads them back', async () => {
      await expectStoredLiterally('odd-put', 'PUT', `{"properties":{${members}}}`);
    });

    it('stores them on PATCH and reads them back', async () => {
      await expectStoredLiterally('odd-patch', 'PATCH', `{"properties":{${members}}}`);
    });

    it('merges a PATCH into an existing __proto__ key literally (RFC 7396)', async () => {
      const created = await json(
        'POST',
        DOCS,
        '{"objectType":"Everything","id":"odd-merge","properties":{"label":"m","data":{"__proto__":{"a":1,"b":2}}}}',
        'editor',
      );
      expect(created.status).toBe(201);
      const patch = '{"properties":{"data":{"__proto__":{"b":null,"c":3},"constructor":{"d":4}}}}';
      const res = await json('PATCH', `${DOCS}/odd-merge`, patch, 'editor', MERGE_PATCH);
      expect(res.status).toBe(200);
      const want = JSON.parse('{"label":"m","data":{"__proto__":{"a":1,"c":3},"constructor":{"d":4}}}');
      expect(canonical(parse(res.text).properties)).toBe(canonical(want));
      const read = await send({ method: 'GET', path: `${DOCS}/odd-merge` }, 'viewer');
      expect(canonical(parse(read.text).properties)).toBe(canonical(want));
    });
  });

  describe('a type with properties named valueOf, constructor, toString, hasOwnProperty', () => {
    it('reads back the type with those property names', async () => {
      const res = await send({ method: 'GET', path: '/api/v1/schemas/main/object-types/Proto' }, 'viewer');
      expect(res.status).toBe(200);
      expect(parse(res.text).properties.map((p: { name: string }) => p.name)).toEqual(
        SEED_TYPES.find((s) => s.name === 'Proto')!.properties.map((p) => p.name),
      );
    });

    let accepted = 0;
    it.each([
      ['Proto', 'gives the required valueOf', { valueOf: 'v' }],
      [
        'Proto',
        'also gives toString, hasOwnProperty and isPrototypeOf',
        { valueOf: 'v', toString: 3, hasOwnProperty: true, isPrototypeOf: ['x'] },
      ],
      ['Proto', 'also gives constructor', { valueOf: 'v', constructor: { a: 1 } }],
      ['ProtoOptional', 'leaves out the optional valueOf', {}],
      ['ProtoOptional', 'gives the optional valueOf', { valueOf: 'v' }],
      ['ProtoOptional', 'gives only constructor, as an array', { constructor: [] }],
    ])('accepts a %s document that %s, and reads it back', async (objectType, _label, properties) => {
      const id = `proto-ok-${++accepted}`;
      const res = await json('POST', DOCS, JSON.stringify({ objectType, id, properties }), 'editor');
      expect(answerFaults({ method: 'POST', path: DOCS }, res)).toEqual([]);
      expect(res.status).toBe(201);
      const read = await send({ method: 'GET', path: `${DOCS}/${id}` }, 'viewer');
      expect(canonical(parse(read.text)?.properties)).toBe(canonical(properties));
    });

    it.each([
      ['lacks the required valueOf', '/body/properties/valueOf', { toString: 1 }],
      ['gives valueOf as a number', '/body/properties/valueOf', { valueOf: 42 }],
      ['gives toString as a string', '/body/properties/toString', { valueOf: 'v', toString: 'x' }],
      [
        'gives hasOwnProperty as a string',
        '/body/properties/hasOwnProperty',
        { valueOf: 'v', hasOwnProperty: 'yes' },
      ],
    ])('refuses a Proto document that %s with 400 at %s', async (_label, path, properties) => {
      const res = await json('POST', DOCS, JSON.stringify({ objectType: 'Proto', properties }), 'editor');
      expect(answerFaults({ method: 'POST', path: DOCS }, res)).toEqual([]);
      expect(res.status).toBe(400);
      expect(parse(res.text).errors).toEqual([{ path, message: expect.any(String) }]);
    });

    it('refuses a PATCH that removes the required valueOf with 400', async () => {
      await given(t).document('Proto', { valueOf: 'v' }, 'proto-patch');
      const res = await json(
        'PATCH',
        `${DOCS}/proto-patch`,
        '{"properties":{"valueOf":null}}',
        'editor',
        MERGE_PATCH,
      );
      expect(res.status).toBe(400);
      expect(parse(res.text).errors.map((e: { path: string }) => e.path)).toEqual([
        '/body/properties/valueOf',
      ]);
    });

    it('filters documents by the property valueOf', async () => {
      await given(t).document('Proto', { valueOf: 'findme' }, 'proto-find');
      const res = await send(
        { method: 'GET', path: `${DOCS}?objectType=Proto&property.valueOf=findme` },
        'viewer',
      );
      expect(res.status).toBe(200);
      expect(parse(res.text).items.map((d: { id: string }) => d.id)).toEqual(['proto-find']);
    });
  });

  describe('Content-Encoding that does not match the body', () => {
    const login = '{"username":"viewer","password":"viewer-password"}';
    it.each(['gzip', 'deflate', 'br', 'x-gzip'])(
      'answers Content-Encoding: %s with a body that is not compressed with 400 or 415 problem+json, without a token',
      async (encoding) => {
        for (const [path, role] of [
          ['/api/v1/auth/login', undefined],
          [DOCS, 'editor'],
        ] as const) {
          const request: Raw = {
            method: 'POST',
            path,
            headers: { 'Content-Type': 'application/json', 'Content-Encoding': encoding },
            body: login,
          };
          const res = await send(request, role);
          expect(answerFaults(request, res)).toEqual([]);
          expect([400, 415]).toContain(res.status);
        }
      },
    );

    it.each([
      ['gzip', gzipSync],
      ['deflate', deflateSync],
      ['br', brotliCompressSync],
    ] as const)(
      'answers %s bodies that are truncated, or inflate past BODY_LIMIT, with a 4xx problem',
      async (encoding, compress) => {
        const whole = compress(Buffer.from(login));
        const bomb = compress(Buffer.from(`{"username":"${' '.repeat(4 << 20)}"}`));
        for (const body of [whole.subarray(0, whole.length >> 1), bomb]) {
          const request: Raw = {
            method: 'POST',
            path: '/api/v1/auth/login',
            headers: { 'Content-Type': 'application/json', 'Content-Encoding': encoding },
            body,
          };
          const res = await send(request);
          expect(answerFaults(request, res)).toEqual([]);
          expect([400, 413, 415]).toContain(res.status);
        }
      },
    );
  });
});
