import { TestApp, startTestApp } from '../support/app';
import { defined } from '../support/one';
import { storeTargets } from '../support/store-targets';

type Operation = {
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, { schema?: { $ref?: string } }> };
  responses: Record<string, { content?: Record<string, unknown> }>;
};
type OpenApi = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: {
    securitySchemes?: Record<string, { type: string; scheme?: string }>;
    schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }>;
  };
};

/** Every route of the contract under /api/v1, with its methods. */
const API_ROUTES: Record<string, string[]> = {
  '/api/v1/auth/login': ['post'],
  '/api/v1/auth/me': ['get'],
  '/api/v1/users': ['get', 'post'],
  '/api/v1/users/{username}': ['delete', 'patch'],
  '/api/v1/branches': ['get', 'post'],
  '/api/v1/branches/{branch}': ['delete', 'get'],
  '/api/v1/branches/{branch}/commits': ['get'],
  '/api/v1/schemas/{branch}/object-types': ['get', 'post'],
  '/api/v1/schemas/{branch}/object-types/{typeName}': ['delete', 'get', 'put'],
  '/api/v1/documents/crud': ['get', 'post'],
  '/api/v1/documents/crud/{id}': ['delete', 'get', 'patch', 'put'],
};

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** [path, method, operation] for every operation of the document. */
const operationsOf = (doc: OpenApi) =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, op]) => [path, method, op] as const),
  );

/** The operation the document declares for `method` on `path`: one the test relies on. */
const operation = (doc: OpenApi, path: string, method: string): Operation =>
  defined(doc.paths[path]?.[method], `the document to declare ${method} ${path}`);

/** The schema `name` among the document's components: one the test relies on. */
const schemaNamed = (doc: OpenApi, name: string) =>
  defined(doc.components.schemas[name], `the document to declare the schema ${name}`);

/** The routes Express really serves under /api/v1, as OpenAPI paths (`:id` → `{id}`) with their methods. */
function servedApiRoutes(t: TestApp): Record<string, string[]> {
  const express = t.app.getHttpAdapter().getInstance() as {
    router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
  };
  const served: Record<string, string[]> = {};
  for (const { route } of express.router.stack) {
    if (!route || !route.path.startsWith('/api/v1/')) continue;
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const methods = Object.keys(route.methods).filter((m) => route.methods[m] && m !== '_all');
    served[path] = [...new Set([...(served[path] ?? []), ...methods])].sort();
  }
  return served;
}

describe.each(storeTargets())('docs and health on $name', (target) => {
  let t: TestApp;
  let doc: OpenApi;
  beforeAll(async () => {
    t = await startTestApp(target);
    doc = (await t.http.get('/docs-json').expect(200)).body;
  });
  afterAll(() => t?.close());

  describe('GET /docs', () => {
    it('serves Swagger UI as HTML without a token', async () => {
      const res = await t.http.get('/docs').expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('Swagger UI');
      expect(res.text).toMatch(/swagger-ui/);
    });
  });

  describe('GET /docs-json', () => {
    it('serves an OpenAPI 3 document as JSON without a token', async () => {
      const res = await t.http.get('/docs-json').expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body.openapi).toMatch(/^3\./);
      expect(res.body.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    });

    it.each(Object.entries(API_ROUTES))('documents %s with methods %j', (path, methods) => {
      const item = doc.paths[path];
      expect(item).toBeDefined();
      const documented = Object.keys(item ?? {}).filter((m) => HTTP_METHODS.includes(m));
      expect(documented.sort()).toEqual(methods);
    });

    it('documents every route the app serves under /api/v1, and only those', () => {
      const served = servedApiRoutes(t);
      expect(Object.keys(served).length).toBeGreaterThanOrEqual(Object.keys(API_ROUTES).length);
      const documented = Object.fromEntries(
        Object.entries(doc.paths)
          .filter(([path]) => path.startsWith('/api/v1/'))
          .map(([path, item]) => [
            path,
            Object.keys(item)
              .filter((m) => HTTP_METHODS.includes(m))
              .sort(),
          ]),
      );
      expect(documented).toEqual(served);
      expect(served).toEqual(expect.objectContaining(API_ROUTES));
    });

    it('declares a bearer security scheme', () => {
      const schemes = Object.values(doc.components.securitySchemes ?? {});
      expect(schemes).toContainEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    });

    it('marks every /api/v1 operation but login as needing the bearer token', () => {
      const bearer = Object.entries(doc.components.securitySchemes ?? {}).find(
        ([, s]) => s.type === 'http' && s.scheme === 'bearer',
      )?.[0];
      expect(bearer).toBeDefined();
      const unprotected = operationsOf(doc)
        .filter(([path]) => path.startsWith('/api/v1/') && path !== '/api/v1/auth/login')
        .filter(([, , op]) => !(op.security ?? []).some((requirement) => bearer! in requirement))
        .map(([path, method]) => `${method} ${path}`);
      expect(unprotected).toEqual([]);
      expect(operation(doc, '/api/v1/auth/login', 'post').security ?? []).toEqual([]);
    });

    it('documents 401 on every protected operation and 403 on every write', () => {
      const missing = operationsOf(doc)
        .filter(([path]) => path.startsWith('/api/v1/') && path !== '/api/v1/auth/login')
        .flatMap(([path, method, op]) => [
          ...(op.responses['401'] ? [] : [`${method} ${path}: 401`]),
          ...(method === 'get' || op.responses['403'] ? [] : [`${method} ${path}: 403`]),
        ]);
      expect(missing).toEqual([]);
    });

    it('describes every error response as application/problem+json', () => {
      const errorResponses = operationsOf(doc).flatMap(([path, method, op]) =>
        Object.entries(op.responses)
          .filter(([status]) => Number(status) >= 400)
          .map(([status, response]) => ({
            at: `${method} ${path} ${status}`,
            types: Object.keys(response.content ?? {}),
          })),
      );
      expect(errorResponses.length).toBeGreaterThan(0);
      expect(errorResponses.filter((r) => r.types.join() !== 'application/problem+json')).toEqual([]);
    });

    it('describes the problem document with its RFC 9457 members', () => {
      const unauthorized = defined(
        operation(doc, '/api/v1/auth/login', 'post').responses['401'],
        'a documented 401 of post /api/v1/auth/login',
      );
      const ref = unauthorized.content?.['application/problem+json'] as { schema: { $ref: string } };
      const name = ref.schema.$ref.split('/').pop()!;
      expect(Object.keys(schemaNamed(doc, name).properties ?? {})).toEqual(
        expect.arrayContaining(['type', 'title', 'status', 'detail', 'instance', 'errors']),
      );
    });

    it.each([
      [
        'ObjectTypeDto',
        ['name', 'kind', 'implements', 'displayName', 'description', 'primaryKey', 'properties'],
        ['name', 'properties'],
      ],
      [
        'PropertyDto',
        [
          ...[
            'name',
            'dataType',
            'required',
            'array',
            'unique',
            'enumValues',
            'referenceType',
            'description',
          ],
          ...['inverseName', 'onDelete', 'properties'],
          ...['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'],
          ...['minLength', 'maxLength', 'pattern', 'format', 'minItems', 'maxItems', 'uniqueItems'],
        ],
        ['name', 'dataType'],
      ],
      ['CreateDocumentDto', ['objectType', 'id', 'properties'], ['objectType', 'properties']],
      ['CreateUserDto', ['username', 'password', 'roles'], ['username', 'password', 'roles']],
      ['LoginDto', ['username', 'password'], ['username', 'password']],
      ['CreateBranchDto', ['name', 'from'], ['name']],
    ])('describes %s with its properties and required ones', (name, properties, required) => {
      const schema = doc.components.schemas[name];
      expect(schema).toBeDefined();
      expect(Object.keys(schema?.properties ?? {}).sort()).toEqual([...properties].sort());
      expect([...(schema?.required ?? [])].sort()).toEqual([...required].sort());
    });

    it.each([
      ['/api/v1/auth/login', 'post', 'application/json', 'LoginDto'],
      ['/api/v1/users', 'post', 'application/json', 'CreateUserDto'],
      ['/api/v1/branches', 'post', 'application/json', 'CreateBranchDto'],
      ['/api/v1/schemas/{branch}/object-types', 'post', 'application/json', 'ObjectTypeDto'],
      ['/api/v1/schemas/{branch}/object-types/{typeName}', 'put', 'application/json', 'ObjectTypeDto'],
      ['/api/v1/documents/crud', 'post', 'application/json', 'CreateDocumentDto'],
      ['/api/v1/documents/crud/{id}', 'put', 'application/json', 'ReplaceDocumentDto'],
    ])('takes the %s %s body as %s %s', (path, method, mediaType, dto) => {
      const body = operation(doc, path, method).requestBody;
      expect(body?.content[mediaType]?.schema?.$ref).toBe(`#/components/schemas/${dto}`);
    });

    it('takes the PATCH body of a document as application/merge-patch+json', () => {
      const body = operation(doc, '/api/v1/documents/crud/{id}', 'patch').requestBody;
      expect(Object.keys(body?.content ?? {})).toEqual(['application/merge-patch+json']);
    });

    it('enumerates the roles a user may have', () => {
      const roles = schemaNamed(doc, 'CreateUserDto').properties?.roles as { items?: { enum?: string[] } };
      expect(roles.items?.enum).toEqual(['viewer', 'editor', 'admin']);
    });
  });

  describe('health', () => {
    it('answers GET /health/live with 200 {status: "ok"} without a token', async () => {
      const res = await t.http.get('/health/live').expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body.status).toBe('ok');
    });

    it('answers GET /health/ready with 200 and the store up without a token', async () => {
      const res = await t.http.get('/health/ready').expect(200);
      expect(res.body.status).toBe('ok');
      expect(res.body.details.store.status).toBe('up');
    });

    it.each(['/health/live', '/health/ready'])('tells caches not to store %s', async (path) => {
      const res = await t.http.get(path).expect(200);
      expect(res.headers['cache-control']).toMatch(/no-store/);
    });

    it('ignores an invalid token on health routes', async () => {
      await t.http.get('/health/ready').set('Authorization', 'Bearer garbage').expect(200);
    });

    it.each(['/api/v1/health/live', '/api/v1/health/ready'])(
      'does not serve health under the API prefix (%s → 404)',
      async (path) => {
        const res = await t.http.get(path).set(t.as('admin'));
        expect(res.status).toBe(404);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      },
    );

    it('does not serve metrics on the API port (GET /metrics → 404)', async () => {
      const res = await t.http.get('/metrics').set(t.as('admin'));
      expect(res.status).toBe(404);
      expect(res.text).not.toMatch(/^# (HELP|TYPE) /m);
    });

    it('does not serve metrics under the API prefix either', async () => {
      const res = await t.http.get('/api/v1/metrics').set(t.as('admin'));
      expect(res.status).toBe(404);
      expect(res.text).not.toMatch(/^# (HELP|TYPE) /m);
    });
  });
});
