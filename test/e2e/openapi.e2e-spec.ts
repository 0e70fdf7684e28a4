import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import ts from 'typescript';
import { TestApp, startTestApp } from '../support/app';
import { defined } from '../support/one';
import { listening } from '../support/sse';
import { storeTargets } from '../support/store-targets';

type Schema = Record<string, unknown>;
type Header = { schema?: Schema };
type Response = { headers?: Record<string, Header>; content?: Record<string, { schema?: Schema }> };
type Operation = {
  security?: unknown[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, Response>;
};
type OpenApi = { paths: Record<string, Record<string, Operation>>; components?: Record<string, unknown> };

const CLIENT_DIR = join(__dirname, '..', 'openapi-client');
const TOOLS = join(__dirname, '..', 'support', 'openapi-tools.js');

/** Runs the maintained OpenAPI tools on the document (in a Node process of their own, see openapi-tools.js). */
const openapiTool = (doc: unknown, ...args: string[]) =>
  execFileSync(process.execPath, [TOOLS, ...args], {
    input: JSON.stringify(doc),
    maxBuffer: 64 << 20,
  }).toString();

/** What the spec uses of typed-client.ts, which is compiled against the generated types (not here). */
interface TypedClient {
  omsClient(baseUrl: string, token: string): unknown;
  findDocuments(
    api: unknown,
    objectType: string,
    property: string,
    value: string,
  ): Promise<{ items: { id: string }[] }>;
  getDocument(api: unknown, id: string): Promise<unknown>;
  objectTypes(api: unknown, branch: string, name: string): Promise<unknown>;
  missingDocument(api: unknown, id: string): Promise<unknown>;
}
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
/** Response headers that belong to the API contract; transport and security headers are not checked. */
const CONTRACT_HEADERS = ['etag', 'location', 'link', 'retry-after', 'x-request-id', 'www-authenticate'];
const PASSWORD = 'walker-password';

/** The method and the path of a walk key such as `get /api/v1/users`. */
function methodAndPath(key: string): [method: string, path: string] {
  const [method, path, ...rest] = key.split(' ');
  if (method === undefined || path === undefined || rest.length > 0)
    throw new Error(`a walk key is "<method> <path>", not "${key}"`);
  return [method, path];
}

type Role = 'admin' | 'editor' | 'viewer';
interface Call {
  path: Record<string, string>;
  query?: string;
  body?: unknown;
  type?: string;
  role?: Role;
}

/**
 * A request that succeeds for every operation, in an order that leaves each one something to act on (what
 * is created is later changed, then deleted). A documented operation missing here fails the walk.
 */
const HAPPY: [string, Call][] = [
  ['post /api/v1/auth/login', { path: {}, body: { username: 'admin', password: 'admin-password-1' } }],
  ['get /api/v1/auth/me', { path: {}, role: 'viewer' }],
  [
    'post /api/v1/users',
    { path: {}, role: 'admin', body: { username: 'walker', password: PASSWORD, roles: ['viewer'] } },
  ],
  ['get /api/v1/users', { path: {}, role: 'admin' }],
  [
    'patch /api/v1/users/{username}',
    {
      path: { username: 'walker' },
      role: 'admin',
      body: { roles: ['editor'] },
      type: 'application/merge-patch+json',
    },
  ],
  ['get /health/live', { path: {} }],
  ['get /health/ready', { path: {} }],
  ['get /api/v1/branches', { path: {}, role: 'viewer' }],
  ['post /api/v1/branches', { path: {}, role: 'editor', body: { name: 'walk', from: 'main' } }],
  ['get /api/v1/branches/{branch}', { path: { branch: 'walk' }, role: 'viewer' }],
  ['get /api/v1/branches/{branch}/commits', { path: { branch: 'main' }, query: 'limit=1', role: 'viewer' }],
  ['get /api/v1/branches/{branch}/events', { path: { branch: 'main' }, query: 'since=0', role: 'viewer' }],
  // Its id is the one the walk's POST got back ({created}); its deliveries are numbered from 1.
  [
    'post /api/v1/webhooks',
    { path: {}, role: 'admin', body: { url: 'http://127.0.0.1:9/walk', branches: ['main'] } },
  ],
  ['get /api/v1/webhooks', { path: {}, role: 'admin' }],
  ['get /api/v1/webhooks/{id}', { path: { id: '{created}' }, role: 'admin' }],
  ['post /api/v1/webhooks/{id}/ping', { path: { id: '{created}' }, role: 'admin' }],
  ['get /api/v1/schemas/{branch}/object-types', { path: { branch: 'main' }, role: 'viewer' }],
  [
    'post /api/v1/schemas/{branch}/object-types',
    {
      path: { branch: 'main' },
      role: 'editor',
      body: {
        name: 'Walk',
        properties: [
          { name: 'n', dataType: 'integer' },
          { name: 'next', dataType: 'reference', referenceType: 'Walk', inverseName: 'previous' },
        ],
      },
    },
  ],
  [
    'get /api/v1/schemas/{branch}/object-types/{typeName}',
    { path: { branch: 'main', typeName: 'Walk' }, role: 'viewer' },
  ],
  [
    'get /api/v1/schemas/{branch}/object-types/{typeName}/json-schema',
    { path: { branch: 'main', typeName: 'Walk' }, role: 'viewer' },
  ],
  ['get /api/v1/schemas/{branch}/json-schema', { path: { branch: 'main' }, role: 'viewer' }],
  [
    'put /api/v1/schemas/{branch}/object-types/{typeName}',
    {
      path: { branch: 'main', typeName: 'Walk' },
      role: 'editor',
      body: {
        name: 'Walk',
        description: 'walked',
        properties: [
          { name: 'n', dataType: 'integer' },
          { name: 'next', dataType: 'reference', referenceType: 'Walk', inverseName: 'previous' },
        ],
      },
    },
  ],
  [
    'post /api/v1/documents/crud',
    {
      path: {},
      query: 'branch=main',
      role: 'editor',
      body: { objectType: 'Walk', id: 'w1', properties: { n: 1 } },
    },
  ],
  [
    'get /api/v1/documents/crud',
    { path: {}, query: 'objectType=Walk&limit=1&property[n]=1', role: 'viewer' },
  ],
  ['get /api/v1/documents/crud/{id}', { path: { id: 'w1' }, role: 'viewer' }],
  ['put /api/v1/documents/crud/{id}', { path: { id: 'w1' }, role: 'editor', body: { properties: { n: 2 } } }],
  [
    'patch /api/v1/documents/crud/{id}',
    {
      path: { id: 'w1' },
      role: 'editor',
      body: { properties: { n: 3 } },
      type: 'application/merge-patch+json',
    },
  ],
  [
    'post /api/v1/documents/bulk',
    {
      path: {},
      query: 'branch=main',
      role: 'editor',
      body: [{ op: 'upsert', objectType: 'Walk', id: 'w1', properties: { n: 4 } }],
    },
  ],
  ['get /api/v1/documents/export', { path: {}, query: 'objectType=Walk', role: 'viewer' }],
  // Version control: tag the patch, look at it, revert it; fast-forward the branch made before all this.
  ['post /api/v1/tags', { path: {}, role: 'editor', body: { name: 'walked', commit: 'main' } }],
  ['get /api/v1/tags', { path: {}, role: 'viewer' }],
  ['get /api/v1/branches/{branch}/commits/{id}', { path: { branch: 'main', id: 'walked' }, role: 'viewer' }],
  [
    'get /api/v1/branches/{branch}/commits/{id}/changes',
    { path: { branch: 'main', id: 'walked' }, role: 'viewer' },
  ],
  [
    'post /api/v1/branches/{branch}/reverts',
    { path: { branch: 'main' }, role: 'editor', body: { commit: 'walked' } },
  ],
  ['get /api/v1/documents/crud/{id}/history', { path: { id: 'w1' }, query: 'limit=2', role: 'viewer' }],
  [
    'get /api/v1/documents/crud/{id}/links/{name}',
    { path: { id: 'w1', name: 'previous' }, query: 'limit=1', role: 'viewer' },
  ],
  ['get /api/v1/compare/{range}', { path: { range: 'walk...main' }, query: 'limit=1', role: 'viewer' }],
  [
    'post /api/v1/branches/{branch}/merges',
    { path: { branch: 'walk' }, role: 'editor', body: { source: 'main' } },
  ],
  ['delete /api/v1/documents/crud/{id}', { path: { id: 'w1' }, role: 'editor' }],
  [
    'delete /api/v1/schemas/{branch}/object-types/{typeName}',
    { path: { branch: 'main', typeName: 'Walk' }, role: 'editor' },
  ],
  ['delete /api/v1/branches/{branch}', { path: { branch: 'walk' }, role: 'editor' }],
  ['get /api/v1/webhooks/{id}/deliveries', { path: { id: '{created}' }, query: 'limit=1', role: 'admin' }],
  [
    'post /api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver',
    { path: { id: '{created}', deliveryId: '1' }, role: 'admin' },
  ],
  ['delete /api/v1/webhooks/{id}', { path: { id: '{created}' }, role: 'admin' }],
  ['get /api/v1/admin/resilience', { path: {}, role: 'admin' }],
  ['post /api/v1/admin/resilience/breakers/{name}/reset', { path: { name: 'store' }, role: 'admin' }],
  [
    'put /api/v1/admin/faults/{target}',
    { path: { target: 'redis' }, role: 'admin', body: { errorRate: 0, latencyMs: 1, durationSeconds: 1 } },
  ],
  ['get /api/v1/admin/faults', { path: {}, role: 'admin' }],
  ['delete /api/v1/admin/faults/{target}', { path: { target: 'redis' }, role: 'admin' }],
  ['delete /api/v1/users/{username}', { path: { username: 'walker' }, role: 'admin' }],
];

describe.each(storeTargets())('the OpenAPI document on $name', (target) => {
  let t: TestApp;
  let raw: OpenApi;
  let doc: OpenApi;
  let errors: string | null;
  beforeAll(async () => {
    t = await startTestApp(target, {
      FAULT_INJECTION_ENABLED: 'true',
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    });
    raw = (await t.http.get('/docs-json').expect(200)).body;
    ({ errors, dereferenced: doc } = JSON.parse(openapiTool(raw, 'check')) as {
      errors: string | null;
      dereferenced: OpenApi;
    });
  });
  afterAll(() => t?.close());

  it('is valid OpenAPI for a standard validator (@apidevtools/swagger-parser)', () => {
    expect(errors).toBeNull();
  });

  it('types every parameter and every response header', () => {
    const untyped: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        for (const p of op.parameters ?? []) {
          const schema = (p as { schema?: Schema }).schema;
          if (!schema || Object.keys(schema).length === 0)
            untyped.push(`${method} ${path} ${p.in} ${p.name}`);
        }
        for (const [status, response] of Object.entries(op.responses)) {
          for (const [name, header] of Object.entries(response.headers ?? {})) {
            if (!header.schema?.type) untyped.push(`${method} ${path} ${status} header ${name}`);
          }
        }
      }
    }
    expect(untyped).toEqual([]);
  });

  describe('a client generated by openapi-typescript and used through openapi-fetch', () => {
    let client: TypedClient;
    beforeAll(async () => {
      mkdirSync(join(CLIENT_DIR, 'generated'), { recursive: true });
      openapiTool(raw, 'types', join(CLIENT_DIR, 'generated', 'oms-api.d.ts'));
      // A computed specifier: the project's compiler does not follow it to the generated types.
      const module = join(CLIENT_DIR, 'typed-client');
      client = (await import(module)) as TypedClient;
    });

    it('type-checks, and refuses every misuse it lists', () => {
      const config = ts.getParsedCommandLineOfConfigFile(
        join(CLIENT_DIR, 'tsconfig.json'),
        {},
        {
          ...ts.sys,
          onUnRecoverableConfigFileDiagnostic: (d) => {
            throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
          },
        },
      )!;
      const program = ts.createProgram(config.fileNames, config.options);
      const errors = ts.getPreEmitDiagnostics(program).map((d: ts.Diagnostic) => {
        const where = d.file
          ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
          : '';
        return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
      expect(errors).toEqual([]);
    });

    it('lists and gets documents and object types of the running service', async () => {
      const server = t.server.listening ? t.server : t.server.listen(0, '127.0.0.1');
      await new Promise<void>((resolve) =>
        server.listening ? resolve() : server.once('listening', resolve),
      );
      const api = client.omsClient(
        `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        t.tokens.editor,
      );
      await t.http
        .post('/api/v1/schemas/main/object-types')
        .set(t.as('editor'))
        .send({ name: 'Typed', properties: [{ name: 'age', dataType: 'integer' }] })
        .expect(201);
      for (const [id, age] of [
        ['t1', 36],
        ['t2', 40],
        ['t3', 36],
      ] as const) {
        await t.http
          .post('/api/v1/documents/crud')
          .set(t.as('editor'))
          .send({ objectType: 'Typed', id, properties: { age } })
          .expect(201);
      }
      const page = await client.findDocuments(api, 'Typed', 'age', '36');
      expect(page.items.map((d) => d.id)).toEqual(['t1', 't3']);
      expect(await client.getDocument(api, 't2')).toMatchObject({ id: 't2', properties: { age: 40 } });
      expect(await client.objectTypes(api, 'main', 'Typed')).toEqual({
        names: expect.arrayContaining(['Typed']),
        dataTypes: ['integer'],
      });
      expect(await client.missingDocument(api, 'nobody')).toMatchObject({
        status: 404,
        type: 'urn:oms:problem:not-found',
      });
    });
  });

  describe('walking every route', () => {
    const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
    const token = (role?: Role): Record<string, string> =>
      role ? { Authorization: `Bearer ${t.tokens[role]}` } : {};

    /** What the walk made and later names: the webhook the walk's POST created. */
    const created: Record<string, string> = {};

    function send(method: string, template: string, call: Call, headers: Record<string, string> = {}) {
      const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
        const value = defined(call.path[name], `a value for {${name}} of ${template}`);
        return encodeURIComponent(
          value === '{created}' ? defined(created[name], `a created ${name}`) : value,
        );
      });
      const url = call.query ? `${path}?${call.query}` : path;
      if (path.endsWith('/events')) return firstBytes(url, { ...token(call.role), ...headers });
      const request = t.http[method as 'get'](url).set({ ...token(call.role), ...headers });
      if (call.body === undefined) return request;
      return request
        .set('Content-Type', headers['Content-Type'] ?? call.type ?? 'application/json')
        .send(typeof call.body === 'string' ? call.body : JSON.stringify(call.body));
    }

    /**
     * An event stream does not end: its answer as far as its first bytes (a problem document is whole by
     * then), the connection then closed.
     */
    async function firstBytes(url: string, headers: Record<string, string>) {
      const base = await listening(t);
      return new Promise<{ status: number; headers: Record<string, string>; text: string; body: unknown }>(
        (resolve, reject) => {
          const req = httpRequest(`${base}${url}`, { headers }, (res) => {
            res.setEncoding('utf8');
            res.once('data', (text: string) => {
              req.destroy();
              const json = /json/.test(res.headers['content-type'] ?? '');
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers as Record<string, string>,
                text,
                body: json ? JSON.parse(text) : {},
              });
            });
          });
          req.on('error', reject);
          req.end();
        },
      );
    }

    /** The operation the document declares for `method` on `path`: one the walk sends requests to. */
    const operation = (method: string, path: string): Operation =>
      defined(doc.paths[path]?.[method], `the document to declare ${method} ${path}`);

    /** What in an answer the document does not say: its status, a contract header, its content type or body. */
    function undocumented(
      key: string,
      res: { status: number; headers: Record<string, string>; text: string; body: unknown },
    ) {
      const [method, path] = methodAndPath(key);
      const documented = operation(method, path).responses[String(res.status)];
      if (!documented) return [`${key}: status ${res.status} (${res.text.slice(0, 120)})`];
      const faults: string[] = [];
      const names = Object.keys(documented.headers ?? {}).map((h) => h.toLowerCase());
      for (const header of CONTRACT_HEADERS) {
        if (res.headers[header] !== undefined && !names.includes(header))
          faults.push(`${key} ${res.status}: header ${header}`);
      }
      if (res.text.length > 0) {
        const [type = ''] = (res.headers['content-type'] ?? '').split(';');
        const media = documented.content?.[type];
        if (!media) faults.push(`${key} ${res.status}: content type ${type}`);
        // JSON media types are checked parsed; others (NDJSON) as the text they are.
        // A recursive schema (a struct's members) keeps its $refs: they resolve against the document's components.
        else if (
          media.schema &&
          !ajv.validate(
            { ...media.schema, components: raw.components },
            /[/+]json$/.test(type) ? res.body : res.text,
          )
        ) {
          faults.push(`${key} ${res.status}: body ${ajv.errorsText(ajv.errors)}`);
        }
      }
      return faults;
    }

    it('covers every documented operation', () => {
      const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
        Object.keys(item)
          .filter((m) => METHODS.includes(m))
          .map((m) => `${m} ${path}`),
      );
      expect(HAPPY.map(([key]) => key).sort()).toEqual(documented.sort());
    });

    it('gets only statuses, headers, content types and bodies the document declares', async () => {
      const faults: string[] = [];
      const seen = new Set<string>();
      const record = (key: string, res: Parameters<typeof undocumented>[1]) => {
        seen.add(`${key} ${res.status}`);
        faults.push(...undocumented(key, res));
        return res;
      };
      for (const [key, call] of HAPPY) {
        const [method, path] = methodAndPath(key);
        const op = operation(method, path);
        if (op.security?.length) record(key, await send(method, path, { ...call, role: undefined }));
        if (op.responses['403']) record(key, await send(method, path, { ...call, role: 'viewer' }));
        if (path.startsWith('/api/'))
          record(
            key,
            await send(method, path, { ...call, query: [call.query, 'zzz=1'].filter(Boolean).join('&') }),
          );
        if (op.requestBody) {
          record(key, await send(method, path, call, { 'Content-Type': 'text/plain' }));
          record(key, await send(method, path, { ...call, body: '{"broken": ' }));
          record(key, await send(method, path, { ...call, body: `{"pad":"${'x'.repeat(1024 * 1024)}"}` }));
        }
        if (op.parameters?.some((p) => p.name === 'If-Match')) {
          record(key, await send(method, path, call, { 'If-Match': '"999999"' }));
        }
        const res = record(key, await send(method, path, call));
        if (key === 'post /api/v1/webhooks') created.id = (res.body as { id: string }).id;
        expect([key, res.status]).toEqual([key, expect.any(Number)]);
        if (res.status >= 300)
          faults.push(`${key}: the happy request got ${res.status} ${res.text.slice(0, 200)}`);
        if (op.responses['304'] && res.headers.etag) {
          record(key, await send(method, path, call, { 'If-None-Match': res.headers.etag }));
        }
      }
      // While the store fails, a read is refused with 503 and Retry-After, as documented.
      await t.http
        .put('/api/v1/admin/faults/store')
        .set(t.as('admin'))
        .send({ errorRate: 1, latencyMs: 0, durationSeconds: 30 })
        .expect(200);
      try {
        record(
          'get /api/v1/branches/{branch}',
          await send('get', '/api/v1/branches/{branch}', { path: { branch: 'main' }, role: 'viewer' }),
        );
      } finally {
        await t.http.delete('/api/v1/admin/faults/store').set(t.as('admin')).expect(204);
        await t.http.post('/api/v1/admin/resilience/breakers/store/reset').set(t.as('admin')).expect(200);
        await t.http.post('/api/v1/admin/resilience/breakers/branches/reset').set(t.as('admin')).expect(200);
      }
      expect(faults).toEqual([]);
      // The walk really met the answers it checks.
      for (const answer of [
        'get /api/v1/documents/crud/{id} 304',
        'put /api/v1/documents/crud/{id} 412',
        'post /api/v1/documents/crud 413',
        'post /api/v1/documents/crud 415',
        'get /api/v1/branches 401',
        'post /api/v1/branches 403',
        'get /api/v1/branches/{branch} 503',
        'get /api/v1/documents/crud 400',
      ]) {
        expect(seen).toContain(answer);
      }
    });
  });
});
