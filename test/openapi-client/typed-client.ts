/**
 * A client generated from /docs-json by openapi-typescript (types in ./generated, written by
 * test/e2e/openapi.e2e-spec.ts) and used through openapi-fetch, as an API consumer would. The spec
 * type-checks this file, then runs these functions against the service.
 */
import createClient from 'openapi-fetch';
import type { components, paths } from './generated/oms-api';

export type OmsClient = ReturnType<typeof omsClient>;
export type DocumentList = components['schemas']['DocumentListResponseDto'];
export type Problem = components['schemas']['ProblemDto'];

export function omsClient(baseUrl: string, token: string) {
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
}

/** One page of documents of a type whose `property` equals `value` (deepObject: `property[age]=36`). */
export async function findDocuments(
  client: OmsClient,
  objectType: string,
  property: string,
  value: string,
): Promise<DocumentList> {
  const { data, error } = await client.GET('/api/v1/documents/crud', {
    params: { query: { branch: 'main', objectType, limit: 10, sort: 'id', property: { [property]: value } } },
  });
  if (error) throw new Error(`list: ${error.status} ${error.detail}`);
  return data;
}

/** A document's id, version and properties. */
export async function getDocument(client: OmsClient, id: string) {
  const { data, error } = await client.GET('/api/v1/documents/crud/{id}', {
    params: { path: { id }, query: { branch: 'main' } },
  });
  if (error) throw new Error(`get: ${error.status} ${error.detail}`);
  const version: number = data.version;
  const properties: Record<string, unknown> = data.properties;
  return { id: data.id, version, properties };
}

/** The names of the object types of a branch, and one of them in full. */
export async function objectTypes(client: OmsClient, branch: string, name: string) {
  const list = await client.GET('/api/v1/schemas/{branch}/object-types', { params: { path: { branch } } });
  const one = await client.GET('/api/v1/schemas/{branch}/object-types/{typeName}', {
    params: { path: { branch, typeName: name } },
  });
  if (list.error || one.error) throw new Error('object types');
  const dataTypes: string[] = one.data.properties.map((p) => p.dataType);
  return { names: list.data.items.map((t) => t.name), dataTypes };
}

/** The problem a missing document answers with. */
export async function missingDocument(client: OmsClient, id: string): Promise<Problem | undefined> {
  const { error } = await client.GET('/api/v1/documents/crud/{id}', { params: { path: { id } } });
  return error;
}

/** Misuses the generated types must refuse: each line stops compiling if the document loses a type. */
export function misuses(client: OmsClient, list: DocumentList): void {
  // @ts-expect-error limit is an integer
  void client.GET('/api/v1/documents/crud', { params: { query: { limit: 'ten' } } });
  // @ts-expect-error sort takes only the documented orders
  void client.GET('/api/v1/documents/crud', { params: { query: { sort: 'name' } } });
  // @ts-expect-error a cursor is a string
  void client.GET('/api/v1/documents/crud', { params: { query: { cursor: 7 } } });
  // @ts-expect-error a branch's commits need the branch
  void client.GET('/api/v1/branches/{branch}/commits', { params: { path: {} } });
  // @ts-expect-error there is no such route
  void client.GET('/api/v1/documents/nowhere');
  // @ts-expect-error a version is a number
  const version: string = list.items[0].version;
  // @ts-expect-error nextCursor may be null
  const cursor: string = list.nextCursor;
  void version;
  void cursor;
}
