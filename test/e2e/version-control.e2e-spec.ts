import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { storeTargets } from '../support/store-targets';

const PROBLEM = /^application\/problem\+json/;

interface Conflict {
  id: string;
  kind: string;
  objectType: string | null;
  documentId: string;
  path: string;
  base: unknown;
  ours: unknown;
  theirs: unknown;
}

interface Violation {
  kind: string;
  objectType: string | null;
  documentId: string | null;
  path: string;
  detail: string;
}

describe.each(storeTargets())('version control on $name', (target) => {
  let t: TestApp;
  let make: ReturnType<typeof given>;
  beforeAll(async () => {
    t = await startTestApp(target);
    make = given(t);
  });
  afterAll(() => t?.close());

  const editor = () => t.as('editor');
  const head = async (branch: string): Promise<string> =>
    (await t.http.get(`/api/v1/branches/${branch}`).set(t.as('viewer')).expect(200)).body.head;
  const doc = async (branch: string, id: string) => {
    const res = await t.http.get(`/api/v1/documents/crud/${id}?branch=${branch}`).set(t.as('viewer'));
    return res.status === 404 ? null : (res.body.properties as Record<string, unknown>);
  };
  const patch = (branch: string, id: string, properties: Record<string, unknown>) =>
    t.http
      .patch(`/api/v1/documents/crud/${id}?branch=${branch}`)
      .set(editor())
      .set('Content-Type', 'application/merge-patch+json')
      .send({ properties })
      .expect(200);
  const remove = (branch: string, id: string) =>
    t.http.delete(`/api/v1/documents/crud/${id}?branch=${branch}`).set(editor()).expect(204);
  const merge = (target: string, body: Record<string, unknown>) =>
    t.http.post(`/api/v1/branches/${target}/merges`).set(editor()).send(body);

  /** A type `name` on main with a few properties, and a branch forked after it. */
  async function setUp(name: string, branch: string) {
    await make.type(name, [
      { name: 'title', dataType: 'string' },
      { name: 'size', dataType: 'integer' },
      { name: 'code', dataType: 'string', unique: true },
      { name: 'color', dataType: 'enum', enumValues: ['red', 'blue'] },
    ]);
    await make.document(name, { title: 'one', size: 1 }, `${name}-1`);
    await make.document(name, { title: 'two', size: 2 }, `${name}-2`);
    await make.branch(branch);
  }

  it('merges a diverged branch field by field, with both heads as parents', async () => {
    await setUp('Clean', 'clean-b');
    await patch('clean-b', 'Clean-1', { title: 'one on branch' });
    await make.document('Clean', { title: 'three' }, 'Clean-3', 'clean-b');
    await patch('main', 'Clean-1', { size: 10 });
    await remove('main', 'Clean-2');
    const [mainHead, branchHead] = [await head('main'), await head('clean-b')];

    const res = await merge('main', { source: 'clean-b' }).expect(201);
    expect(res.body).toMatchObject({
      parents: [mainHead, branchHead],
      fastForward: false,
      upToDate: false,
      applied: { schema: 0, documents: 2 },
    });
    expect(await head('main')).toBe(res.body.commit);
    expect(await doc('main', 'Clean-1')).toEqual({ title: 'one on branch', size: 10 });
    expect(await doc('main', 'Clean-2')).toBeNull();
    expect(await doc('main', 'Clean-3')).toEqual({ title: 'three' });
    // Again: nothing left to merge.
    const again = await merge('main', { source: 'clean-b' }).expect(200);
    expect(again.body).toMatchObject({ upToDate: true, commit: res.body.commit });
  });

  it('fast-forwards a target that has not moved, copying nothing', async () => {
    await make.branch('ff-target');
    await make.branch('ff-source', 'ff-target');
    await make.type('FastF', [{ name: 'n', dataType: 'integer' }], 'ff-source');
    await make.document('FastF', { n: 1 }, 'ff-1', 'ff-source');
    const sourceHead = await head('ff-source');
    const res = await merge('ff-target', { source: 'ff-source' }).expect(201);
    expect(res.body).toMatchObject({
      commit: sourceHead,
      fastForward: true,
      parents: [],
      applied: { schema: 1, documents: 1 },
    });
    expect(await head('ff-target')).toBe(sourceHead);
    expect(await doc('ff-target', 'ff-1')).toEqual({ n: 1 });
  });

  it('makes a merge commit instead of a fast-forward when asked (fastForward: false)', async () => {
    await make.branch('noff-target');
    await make.branch('noff-source', 'noff-target');
    await make.type('NoFf', [{ name: 'n', dataType: 'integer' }], 'noff-source');
    await make.document('NoFf', { n: 1 }, 'noff-1', 'noff-source');
    const [targetHead, sourceHead] = [await head('noff-target'), await head('noff-source')];
    const res = await merge('noff-target', { source: 'noff-source', fastForward: false }).expect(201);
    expect(res.body).toMatchObject({
      fastForward: false,
      parents: [targetHead, sourceHead],
      applied: { schema: 1, documents: 1 },
    });
    expect(await head('noff-target')).toBe(res.body.commit);
    expect(await doc('noff-target', 'noff-1')).toEqual({ n: 1 });
    const compared = await t.http
      .get('/api/v1/compare/noff-target..noff-source')
      .set(t.as('viewer'))
      .expect(200);
    expect([compared.body.schema, compared.body.documents]).toEqual([[], []]);
  });

  it('reports every conflict (field, add-add, delete-modify, schema) at once, with stable ids', async () => {
    await setUp('Conf', 'conf-b');
    await make.document('Conf', { title: 'x' }, 'Conf-3');
    await make.branch('conf-b2');
    // field: both edit one field; delete-modify: one deletes, the other edits; add-add: both add one id.
    for (const [branch, title] of [
      ['main', 'main title'],
      ['conf-b2', 'branch title'],
    ] as const) {
      await patch(branch, 'Conf-1', { title, ...(branch === 'main' ? { size: 5 } : { color: 'red' }) });
      await make.document('Conf', { title: `${branch} added` }, 'Conf-new', branch);
    }
    await remove('main', 'Conf-3');
    await patch('conf-b2', 'Conf-3', { title: 'edited' });
    // schema: both change the same property's description differently.
    for (const [branch, description] of [
      ['main', 'on main'],
      ['conf-b2', 'on branch'],
    ] as const) {
      const type = (await t.http.get(`/api/v1/schemas/${branch}/object-types/Conf`).set(editor()).expect(200))
        .body;
      const properties = type.properties.map((p: { name: string }) =>
        p.name === 'title' ? { ...p, description } : p,
      );
      await t.http
        .put(`/api/v1/schemas/${branch}/object-types/Conf`)
        .set(editor())
        .send({ name: 'Conf', properties })
        .expect(200);
    }

    const refused = await merge('main', { source: 'conf-b2' }).expect(409);
    expect(refused.headers['content-type']).toMatch(PROBLEM);
    const conflicts = refused.body.conflicts as Conflict[];
    const byKind = (kind: string) => conflicts.filter((c) => c.kind === kind);
    expect(byKind('field')).toEqual([
      expect.objectContaining({
        documentId: 'Conf-1',
        objectType: 'Conf',
        path: '/title',
        base: 'one',
        ours: 'main title',
        theirs: 'branch title',
      }),
    ]);
    expect(byKind('add-add')).toEqual([expect.objectContaining({ documentId: 'Conf-new', path: '' })]);
    expect(byKind('delete-modify')).toEqual([
      expect.objectContaining({ documentId: 'Conf-3', ours: null, theirs: { title: 'edited' } }),
    ]);
    expect(byKind('schema')).toEqual([
      expect.objectContaining({ documentId: 'Conf', path: '/properties/title/description', ours: 'on main' }),
    ]);
    expect(conflicts).toHaveLength(4);
    // Nothing changed, and the same conflicts carry the same ids next time (a dry run says the same).
    expect(await doc('main', 'Conf-1')).toEqual({ title: 'main title', size: 5 });
    const report = await merge('main', { source: 'conf-b2', dryRun: true }).expect(200);
    expect(report.body.mergeable).toBe(false);
    expect((report.body.conflicts as Conflict[]).map((c) => c.id).sort()).toEqual(
      conflicts.map((c) => c.id).sort(),
    );

    // Resolutions per conflict: theirs, ours, base, and a value of one's own.
    const id = (kind: string) => byKind(kind)[0]!.id;
    const merged = await merge('main', {
      source: 'conf-b2',
      resolutions: [
        { conflictId: id('field'), choice: 'value', value: 'agreed title' },
        { conflictId: id('add-add'), choice: 'theirs' },
        { conflictId: id('delete-modify'), choice: 'base' },
        { conflictId: id('schema'), choice: 'ours' },
      ],
    }).expect(201);
    expect(merged.body.parents).toHaveLength(2);
    expect(await doc('main', 'Conf-1')).toEqual({ title: 'agreed title', size: 5, color: 'red' });
    expect(await doc('main', 'Conf-new')).toEqual({ title: 'conf-b2 added' });
    expect(await doc('main', 'Conf-3')).toEqual({ title: 'x' });
    const type = (await t.http.get('/api/v1/schemas/main/object-types/Conf').set(editor()).expect(200)).body;
    expect(type.properties.find((p: { name: string }) => p.name === 'title').description).toBe('on main');
  });

  it('settles open conflicts by strategy, and refuses an unknown resolution', async () => {
    await setUp('Strat', 'strat-b');
    await patch('main', 'Strat-1', { title: 'ours' });
    await patch('strat-b', 'Strat-1', { title: 'theirs' });
    const unknown = await merge('main', {
      source: 'strat-b',
      resolutions: [{ conflictId: 'nope', choice: 'ours' }],
    }).expect(400);
    expect(unknown.body.errors).toEqual([
      { path: '/body/resolutions/0/conflictId', message: 'matches no conflict of this merge' },
    ]);
    await merge('main', { source: 'strat-b', strategy: 'theirs' }).expect(201);
    expect(await doc('main', 'Strat-1')).toMatchObject({ title: 'theirs' });
  });

  it('refuses a merge whose result would break a rule no conflict shows: unique values, references', async () => {
    await setUp('Rule', 'rule-b');
    await make.type('Holder', [{ name: 'item', dataType: 'reference', referenceType: 'Rule' }]);
    await make.branch('rule-b2');
    // unique: each side gives a different document the same code.
    await patch('main', 'Rule-1', { code: 'C-1' });
    await patch('rule-b2', 'Rule-2', { code: 'C-1' });
    // reference: the branch refers to Rule-2's twin, which main deletes.
    await make.document('Rule', { title: 'target' }, 'Rule-target');
    await make.branch('rule-b3');
    await make.document('Holder', { item: 'Rule-target' }, 'holder-1', 'rule-b3');
    await remove('main', 'Rule-target');

    const unique = await merge('main', { source: 'rule-b2' }).expect(409);
    expect(unique.body.conflicts).toEqual([]);
    expect(unique.body.violations).toEqual([
      expect.objectContaining({
        kind: 'unique',
        objectType: 'Rule',
        documentId: 'Rule-2',
        path: '/properties/code',
      }),
    ]);
    const dangling = await merge('main', { source: 'rule-b3' }).expect(409);
    expect(dangling.body.violations as Violation[]).toEqual([
      expect.objectContaining({ kind: 'reference', documentId: 'holder-1', path: '/properties/item' }),
    ]);
    // Deleting a referenced document through a merge is refused the same way.
    await make.document('Holder', { item: 'Rule-1' }, 'holder-2');
    await make.branch('rule-b4');
    await t.http.delete('/api/v1/documents/crud/holder-2?branch=rule-b4').set(editor()).expect(204);
    await t.http.delete('/api/v1/documents/crud/Rule-1?branch=rule-b4').set(editor()).expect(204);
    await make.document('Holder', { item: 'Rule-1' }, 'holder-3');
    const referenced = await merge('main', { source: 'rule-b4' }).expect(409);
    expect(referenced.body.violations as Violation[]).toEqual([
      expect.objectContaining({ kind: 'reference', documentId: 'Rule-1' }),
    ]);
    expect(await doc('main', 'Rule-1')).not.toBeNull();
  });

  it('checks merged documents against the merged type: enum values, and types that would break documents', async () => {
    await setUp('Typed', 'typed-b');
    const putType = async (
      branch: string,
      change: (p: { name: string; required?: boolean; enumValues?: string[] }) => object,
    ) => {
      const type = await t.http.get(`/api/v1/schemas/${branch}/object-types/Typed`).set(editor()).expect(200);
      await t.http
        .put(`/api/v1/schemas/${branch}/object-types/Typed`)
        .set(editor())
        .send({ name: 'Typed', properties: type.body.properties.map(change) })
        .expect(200);
    };
    // enum: main drops 'blue' (no document uses it there); the branch sets a document to blue.
    await putType('main', (p) => (p.name === 'color' ? { ...p, enumValues: ['red'] } : p));
    await patch('typed-b', 'Typed-1', { color: 'blue' });
    // breaking-schema: the branch makes title required; main adds a document without one.
    await putType('typed-b', (p) => (p.name === 'title' ? { ...p, required: true } : p));
    await make.document('Typed', { size: 3 }, 'Typed-untitled');

    const refused = await merge('main', { source: 'typed-b' }).expect(409);
    const violations = refused.body.violations as Violation[];
    expect(violations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'enum', documentId: 'Typed-1', path: '/properties/color' }),
        expect.objectContaining({ kind: 'breaking-schema', objectType: 'Typed', documentId: null }),
      ]),
    );
    expect(violations).toHaveLength(2);
  });

  it('merges again from the new base after more commits on both sides, and main into a branch', async () => {
    await setUp('Again', 'again-b');
    await patch('again-b', 'Again-1', { title: 'first' });
    await patch('main', 'Again-2', { title: 'main first' });
    await merge('main', { source: 'again-b' }).expect(201);
    await patch('again-b', 'Again-1', { title: 'second' });
    await patch('main', 'Again-1', { size: 100 });
    const second = await merge('main', { source: 'again-b' }).expect(201);
    expect(second.body.applied.documents).toBe(1);
    expect(await doc('main', 'Again-1')).toEqual({ title: 'second', size: 100 });
    await patch('again-b', 'Again-2', { size: 7 });
    await merge('again-b', { source: 'main' }).expect(201);
    expect(await doc('again-b', 'Again-2')).toEqual({ title: 'main first', size: 7 });
  });

  it('keeps a value chosen over a newer write of the source when the source later takes the target back', async () => {
    await setUp('Kept', 'kept-b');
    await patch('main', 'Kept-1', { title: 'ours' });
    await patch('kept-b', 'Kept-1', { title: 'theirs' }); // the newer write
    await merge('main', { source: 'kept-b', strategy: 'ours' }).expect(201);
    expect(await doc('main', 'Kept-1')).toMatchObject({ title: 'ours' });
    // The branch has not moved since: it fast-forwards to main, and sees what main chose.
    const back = await merge('kept-b', { source: 'main' }).expect(201);
    expect(back.body.fastForward).toBe(true);
    expect(await doc('kept-b', 'Kept-1')).toMatchObject({ title: 'ours' });
    expect(
      (await t.http.get('/api/v1/compare/main..kept-b').set(t.as('viewer')).expect(200)).body.documents,
    ).toEqual([]);
  });

  it('refuses a stale expected head with 412, and a viewer with 403', async () => {
    await make.branch('stale-b');
    await make.type('Stale', [], 'stale-b');
    await merge('main', { source: 'stale-b', expectedTargetHead: 'f'.repeat(40) }).expect(412);
    await merge('main', { source: 'stale-b', expectedSourceHead: 'f'.repeat(40) }).expect(412);
    await t.http
      .post('/api/v1/branches/main/merges')
      .set(t.as('viewer'))
      .send({ source: 'stale-b' })
      .expect(403);
    await merge('main', { source: 'no-such-branch' }).expect(404);
  });

  it('compares three-dot and two-dot, with field changes, a summary and pages', async () => {
    await setUp('Cmp', 'cmp-b');
    await patch('cmp-b', 'Cmp-1', { title: 'changed' });
    await make.document('Cmp', { title: 'new' }, 'Cmp-3', 'cmp-b');
    await patch('cmp-b', 'Cmp-2', { title: 'temp' });
    await patch('cmp-b', 'Cmp-2', { title: 'two' });
    await patch('main', 'Cmp-2', { size: 20 });

    const three = await t.http
      .get('/api/v1/compare/main...cmp-b?objectType=Cmp')
      .set(t.as('viewer'))
      .expect(200);
    expect(three.body.summary.documents).toEqual({ Cmp: { added: 1, modified: 1, removed: 0 } });
    expect(three.body.documents).toEqual([
      expect.objectContaining({
        id: 'Cmp-1',
        op: 'modified',
        changes: [{ path: '/properties/title', before: 'one', after: 'changed' }],
      }),
      expect.objectContaining({ id: 'Cmp-3', op: 'added', fromVersion: null }),
    ]);
    const two = await t.http
      .get('/api/v1/compare/main..cmp-b?objectType=Cmp')
      .set(t.as('viewer'))
      .expect(200);
    expect(two.body.documents.map((d: { id: string }) => d.id)).toEqual(['Cmp-1', 'Cmp-2', 'Cmp-3']);
    const page = await t.http
      .get('/api/v1/compare/main..cmp-b?objectType=Cmp&limit=2')
      .set(t.as('viewer'))
      .expect(200);
    expect(page.body.documents).toHaveLength(2);
    const rest = await t.http
      .get(`/api/v1/compare/main..cmp-b?objectType=Cmp&limit=2&cursor=${page.body.nextCursor}`)
      .set(t.as('viewer'))
      .expect(200);
    expect(rest.body.documents.map((d: { id: string }) => d.id)).toEqual(['Cmp-3']);
    expect(rest.body.nextCursor).toBeNull();
    await t.http.get('/api/v1/compare/main').set(t.as('viewer')).expect(400);
    await t.http.get('/api/v1/compare/main...nope').set(t.as('viewer')).expect(404);
  });

  it('reverts a commit, shows one commit and its changes, and a document history across a merge', async () => {
    await setUp('Rev', 'rev-b');
    await patch('rev-b', 'Rev-1', { title: 'bad edit' });
    const bad = await head('rev-b');
    await patch('rev-b', 'Rev-2', { size: 22 });
    const commit = await t.http.get(`/api/v1/branches/rev-b/commits/${bad}`).set(t.as('viewer')).expect(200);
    expect(commit.body).toMatchObject({ id: bad, author: 'editor' });
    const changes = await t.http
      .get(`/api/v1/branches/rev-b/commits/${bad}/changes`)
      .set(t.as('viewer'))
      .expect(200);
    expect(changes.body.documents).toEqual([
      expect.objectContaining({
        id: 'Rev-1',
        changes: [{ path: '/properties/title', before: 'one', after: 'bad edit' }],
      }),
    ]);
    await t.http.get(`/api/v1/branches/main/commits/${bad}`).set(t.as('viewer')).expect(404);

    const before = await head('rev-b');
    const reverted = await t.http
      .post('/api/v1/branches/rev-b/reverts')
      .set(editor())
      .send({ commit: bad })
      .expect(201);
    expect(reverted.body.parents).toEqual([before]);
    expect(await head('rev-b')).toBe(reverted.body.commit);
    expect(await doc('rev-b', 'Rev-1')).toEqual({ title: 'one', size: 1 });
    expect(await doc('rev-b', 'Rev-2')).toEqual({ title: 'two', size: 22 });

    await patch('main', 'Rev-1', { size: 11 });
    await merge('main', { source: 'rev-b' }).expect(201);
    const history = await t.http
      .get('/api/v1/documents/crud/Rev-1/history?branch=main')
      .set(t.as('viewer'))
      .expect(200);
    const titles = history.body.map(
      (h: { op: string; changes: { path: string; after: unknown }[] }) => h.changes,
    );
    // Newest first: the merge, main's edit and the branch's edit and its revert (both parents), the creation.
    expect(history.body[history.body.length - 1]).toMatchObject({ op: 'added' });
    expect(titles.flat()).toEqual(
      expect.arrayContaining([
        { path: '/properties/title', before: 'one', after: 'bad edit' },
        { path: '/properties/title', before: 'bad edit', after: 'one' },
      ]),
    );
    expect(history.body.map((h: { commit: string }) => h.commit)).toContain(bad);
  });

  it('tags a commit once, lists tags, and reads a document at the tag', async () => {
    await setUp('Tagged', 'tag-b');
    const before = await head('main');
    const made = await t.http
      .post('/api/v1/tags')
      .set(editor())
      .send({ name: 'tagged-v1', commit: before, message: 'first' })
      .expect(201);
    expect(made.headers.location).toBe('/api/v1/tags/tagged-v1');
    await t.http.post('/api/v1/tags').set(editor()).send({ name: 'tagged-v1', commit: before }).expect(409);
    await t.http
      .post('/api/v1/tags')
      .set(t.as('viewer'))
      .send({ name: 'tagged-v2', commit: before })
      .expect(403);
    await t.http
      .post('/api/v1/tags')
      .set(editor())
      .send({ name: 'tagged-v3', commit: 'a'.repeat(40) })
      .expect(404);
    await patch('main', 'Tagged-1', { title: 'later' });
    const list = await t.http.get('/api/v1/tags').set(t.as('viewer')).expect(200);
    expect(list.body).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'tagged-v1', commit: before })]),
    );
    const at = await t.http
      .get('/api/v1/documents/crud/Tagged-1?branch=main&at=tagged-v1')
      .set(t.as('viewer'))
      .expect(200);
    expect(at.body.properties).toEqual({ title: 'one', size: 1 });
  });
});
