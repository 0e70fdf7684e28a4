import { TestApp } from './app';

export type Property = {
  name: string;
  dataType: string;
  required?: boolean;
  array?: boolean;
  unique?: boolean;
  enumValues?: string[];
  referenceType?: string;
};

/** Factories that insert through the API and return what it answered. */
export function given(t: TestApp) {
  const editor = () => t.as('editor');
  return {
    async branch(name: string, from = 'main') {
      return (await t.http.post('/api/v1/branches').set(editor()).send({ name, from }).expect(201)).body;
    },
    async type(
      name: string,
      properties: Property[] = [],
      branch = 'main',
      extra: Record<string, unknown> = {},
    ) {
      const res = await t.http
        .post(`/api/v1/schemas/${branch}/object-types`)
        .set(editor())
        .send({ name, properties, ...extra });
      if (res.status !== 201) throw new Error(`type ${name}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async document(objectType: string, properties: Record<string, unknown>, id?: string, branch = 'main') {
      const res = await t.http
        .post(`/api/v1/documents/crud?branch=${branch}`)
        .set(editor())
        .send({ objectType, properties, ...(id ? { id } : {}) });
      if (res.status !== 201) throw new Error(`document: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
  };
}
