import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { storeTargets } from '../support/store-targets';

type Props = Record<string, unknown>;
type Side = 'ours' | 'theirs';

const FIELDS = ['a', 'b', 'c'] as const;
const SEEDED = 4;
const IDS = 6; // ids past SEEDED are created by the edits

const value = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant(null)); // null removes the field
const edit = fc.record({
  side: fc.constantFrom<Side>('ours', 'theirs'),
  doc: fc.integer({ min: 0, max: IDS - 1 }),
  op: fc.constantFrom('set', 'set', 'set', 'delete'),
  field: fc.constantFrom(...FIELDS),
  value,
});

type Edit = typeof edit extends fc.Arbitrary<infer E> ? E : never;

/**
 * Random edits on two branches forked from one state, merged with strategy `theirs`: where only the source
 * changed a document the result is the source's, where only the target did it is the target's, where both
 * did each field the source changed is the source's and the rest the target's; and no document is lost that
 * both sides kept, either side added, or the source changed.
 */
describe.each(storeTargets())('merge properties on $name', (target) => {
  let t: TestApp;
  let make: ReturnType<typeof given>;
  let run = 0;
  beforeAll(async () => {
    t = await startTestApp(target);
    make = given(t);
    await make.type(
      'Prop',
      FIELDS.map((name) => ({ name, dataType: 'integer' })),
    );
  });
  afterAll(() => t?.close());

  const documents = async (branch: string): Promise<Map<string, Props>> => {
    const res = await t.http
      .get(`/api/v1/documents/crud?branch=${branch}&objectType=Prop&limit=1000`)
      .set(t.as('viewer'))
      .expect(200);
    return new Map(res.body.items.map((d: { id: string; properties: Props }) => [d.id, d.properties]));
  };

  async function apply(branch: string, id: string, e: Edit, exists: boolean) {
    const editor = t.as('editor');
    if (e.op === 'delete') {
      if (exists)
        await t.http.delete(`/api/v1/documents/crud/${id}?branch=${branch}`).set(editor).expect(204);
      return;
    }
    if (exists) {
      await t.http
        .patch(`/api/v1/documents/crud/${id}?branch=${branch}`)
        .set(editor)
        .set('Content-Type', 'application/merge-patch+json')
        .send({ properties: { [e.field]: e.value } })
        .expect(200);
    } else {
      const properties = e.value === null ? {} : { [e.field]: e.value };
      await make.document('Prop', properties, id, branch);
    }
  }

  it('takes each side where only it changed, the source where both did, and loses no document', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ a: fc.integer({ min: 0, max: 3 }), b: fc.integer({ min: 0, max: 3 }) }), {
          minLength: SEEDED,
          maxLength: SEEDED,
        }),
        fc.array(edit, { minLength: 1, maxLength: 10 }),
        async (seeds, edits) => {
          run += 1;
          const [ours, theirs] = [`prop-${run}-t`, `prop-${run}-s`];
          const id = (n: number) => `prop-${run}-${n}`;
          await make.branch(ours);
          for (const [n, seed] of seeds.entries()) await make.document('Prop', seed, id(n), ours);
          await make.branch(theirs, ours);
          const base = await documents(ours);
          for (const e of edits) {
            const branch = e.side === 'ours' ? ours : theirs;
            const exists = (await documents(branch)).has(id(e.doc));
            await apply(branch, id(e.doc), e, exists);
          }
          const [o, th] = [await documents(ours), await documents(theirs)];
          await t.http
            .post(`/api/v1/branches/${ours}/merges`)
            .set(t.as('editor'))
            .send({ source: theirs, strategy: 'theirs' })
            .expect((res) => {
              if (res.status !== 201 && res.status !== 200) throw new Error(`${res.status} ${res.text}`);
            });
          const merged = await documents(ours);

          for (let n = 0; n < IDS; n++) {
            const [b, x, y, r] = [base, o, th, merged].map((m) => m.get(id(n)) ?? null) as [
              Props | null,
              Props | null,
              Props | null,
              Props | null,
            ];
            const where = `${id(n)}: base ${JSON.stringify(b)} ours ${JSON.stringify(x)} theirs ${JSON.stringify(y)}`;
            if (isDeepStrictEqual(y, b)) expect([where, r]).toEqual([where, x]);
            else if (isDeepStrictEqual(x, b)) expect([where, r]).toEqual([where, y]);
            else if (x === null || y === null || b === null) expect([where, r]).toEqual([where, y]);
            else {
              const expected: Props = {};
              for (const f of FIELDS) {
                const pick = isDeepStrictEqual(y[f], b[f]) ? x[f] : y[f];
                if (pick !== undefined) expected[f] = pick;
              }
              expect([where, r]).toEqual([where, expected]);
            }
            // Never lost: kept by both sides, added by either, or changed by the source (whose side wins).
            const kept = (x !== null && y !== null) || (b === null && (x !== null || y !== null));
            if (kept || (y !== null && !isDeepStrictEqual(y, b)))
              expect([where, r]).not.toEqual([where, null]);
          }
        },
      ),
      { numRuns: 20 },
    );
  });
});
