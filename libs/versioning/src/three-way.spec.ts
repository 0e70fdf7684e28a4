import { EntityRecord } from '@oms/store';
import { fieldChanges, mergeEntity, mergeFields, resolve } from './three-way';

const record = (body: unknown, objectType: string | null = 'Person'): EntityRecord => ({
  id: 'x',
  objectType,
  body,
  version: 1,
  createdAt: new Date(0),
  createdBy: 'a',
  updatedAt: new Date(0),
  updatedBy: 'a',
});

describe('mergeFields', () => {
  it('takes the side that changed, member by member, arrays whole', () => {
    expect(
      mergeFields(
        { a: 1, b: [1], c: { d: 1, e: 1 } },
        { a: 2, b: [1], c: { d: 2, e: 1 } },
        { a: 1, b: [2], c: { d: 1, e: 3 } },
      ),
    ).toEqual({ value: { a: 2, b: [2], c: { d: 2, e: 3 } }, conflicts: [] });
  });

  it('treats an absent member as a value: removed on one side, added on the other', () => {
    expect(mergeFields({ a: 1 }, {}, { a: 1, b: 2 })).toEqual({ value: { b: 2 }, conflicts: [] });
  });

  it('reports each place both changed differently, holding ours there', () => {
    const merged = mergeFields({ a: 1, b: [1] }, { a: 2, b: [1, 2] }, { a: 3, b: [1, 3] });
    expect(merged.value).toEqual({ a: 2, b: [1, 2] });
    expect(merged.conflicts).toEqual([
      { segments: ['a'], base: 1, ours: 2, theirs: 3 },
      { segments: ['b'], base: [1], ours: [1, 2], theirs: [1, 3] },
    ]);
  });

  it('agrees with itself when both made the same change', () => {
    expect(mergeFields({ a: 1 }, { a: 5 }, { a: 5 })).toEqual({ value: { a: 5 }, conflicts: [] });
  });
});

describe('mergeEntity', () => {
  it('names whole-entity conflicts add-add and delete-modify, with stable ids', () => {
    const addAdd = mergeEntity('document', 'd', null, record({ a: 1 }), record({ a: 2 }));
    expect(addAdd.conflicts.map((c) => [c.kind, c.path])).toEqual([['add-add', '']]);
    const deleteModify = mergeEntity('document', 'd', record({ a: 1 }), null, record({ a: 2 }));
    expect(deleteModify.conflicts).toEqual([
      expect.objectContaining({ kind: 'delete-modify', base: { a: 1 }, ours: null, theirs: { a: 2 } }),
    ]);
    expect(mergeEntity('document', 'd', null, record({ a: 1 }), record({ a: 3 })).conflicts[0]?.id).toBe(
      addAdd.conflicts[0]?.id,
    );
  });

  it('merges object types property by property and lists them again, ours first', () => {
    const prop = (name: string, extra: object = {}) => ({ name, dataType: 'string', ...extra });
    const base = record({ name: 'T', properties: [prop('a')] }, null);
    const ours = record({ name: 'T', properties: [prop('a'), prop('b')] }, null);
    const theirs = record({ name: 'T', properties: [prop('a', { description: 'x' }), prop('c')] }, null);
    const merged = mergeEntity('type', 'T', base, ours, theirs);
    expect(merged.conflicts).toEqual([]);
    expect(merged.value?.body).toEqual({
      name: 'T',
      properties: [prop('a', { description: 'x' }), prop('b'), prop('c')],
    });
    const clash = mergeEntity(
      'type',
      'T',
      base,
      record({ name: 'T', properties: [prop('a', { description: 'o' })] }, null),
      theirs,
    );
    expect(clash.conflicts).toEqual([
      expect.objectContaining({
        kind: 'schema',
        objectType: 'T',
        path: '/properties/a/description',
        ours: 'o',
        theirs: 'x',
      }),
    ]);
  });
});

describe('resolve', () => {
  const conflicted = () =>
    mergeEntity('document', 'd', record({ a: 1, b: 1 }), record({ a: 2, b: 1 }), record({ a: 3, b: 2 }));

  it('leaves a conflict open under fail, and settles it by strategy or by resolution', () => {
    expect(resolve(conflicted(), new Map(), 'fail')).toHaveLength(1);
    const theirs = conflicted();
    expect(resolve(theirs, new Map(), 'theirs')).toEqual([]);
    expect(theirs.value?.body).toEqual({ a: 3, b: 2 });
    for (const [choice, value, expected] of [
      ['ours', undefined, { a: 2, b: 2 }],
      ['base', undefined, { a: 1, b: 2 }],
      ['value', 9, { a: 9, b: 2 }],
      ['value', null, { b: 2 }],
    ] as const) {
      const entity = conflicted();
      const id = entity.conflicts[0]!.id;
      expect(resolve(entity, new Map([[id, { conflictId: id, choice, value }]]), 'fail')).toEqual([]);
      expect([choice, value, entity.value?.body]).toEqual([choice, value, expected]);
    }
  });

  it('deletes or restores a whole entity, keeping its object type', () => {
    const entity = mergeEntity('document', 'd', record({ a: 1 }), null, record({ a: 2 }));
    resolve(entity, new Map(), 'theirs');
    expect(entity.value).toEqual({ objectType: 'Person', body: { a: 2 } });
  });
});

describe('fieldChanges', () => {
  it('lists changed leaves as JSON Pointers, absent as null', () => {
    expect(fieldChanges('document', { a: 1, 'x/y': { z: 1 } }, { a: 1, 'x/y': { z: 2 }, b: [1] })).toEqual([
      { path: '/x~1y/z', before: 1, after: 2 },
      { path: '/b', before: null, after: [1] },
    ]);
    expect(fieldChanges('document', null, { a: 1 })).toEqual([{ path: '', before: null, after: { a: 1 } }]);
  });
});
