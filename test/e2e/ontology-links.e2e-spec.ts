import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { storeTargets } from '../support/store-targets';

const typePath = (name = '', branch = 'main') =>
  `/api/v1/schemas/${branch}/object-types${name ? `/${name}` : ''}`;

/** Cascades from its department, nullifies its buddy and projects; at least one project (cardinality). */
const EMPLOYEE = {
  name: 'Employee',
  properties: [
    { name: 'department', dataType: 'reference', referenceType: 'Department', onDelete: 'cascade' },
    { name: 'buddy', dataType: 'reference', referenceType: 'Employee', onDelete: 'nullify' },
    {
      name: 'projects',
      dataType: 'reference',
      referenceType: 'Project',
      array: true,
      onDelete: 'nullify',
      minItems: 1,
      maxItems: 3,
    },
  ],
};

interface Listed {
  items: { id: string; objectType: string }[];
  nextCursor: string | null;
}

describe.each(storeTargets())('links on $name', (target) => {
  let t: TestApp;
  let make: ReturnType<typeof given>;
  beforeAll(async () => {
    t = await startTestApp(target);
    make = given(t);
  });
  afterAll(() => t?.close());

  const defineType = (body: object) => t.http.post(typePath()).set(t.as('editor')).send(body);
  const links = (id: string, name: string, query = '') =>
    t.http.get(`/api/v1/documents/crud/${id}/links/${name}${query ? `?${query}` : ''}`).set(t.as('viewer'));
  const remove = (id: string) => t.http.delete(`/api/v1/documents/crud/${id}`).set(t.as('editor'));
  const exists = async (id: string) =>
    (await t.http.get(`/api/v1/documents/crud/${id}`).set(t.as('viewer'))).status === 200;
  const get = async (id: string) =>
    (await t.http.get(`/api/v1/documents/crud/${id}`).set(t.as('viewer')).expect(200)).body as {
      properties: Record<string, unknown>;
    };
  const commits = async () =>
    (await t.http.get('/api/v1/branches/main/commits?limit=1000').set(t.as('viewer')).expect(200)).body as {
      id: string;
      message: string;
    }[];
  /** Every page of a link, following nextCursor. */
  const allPages = async (id: string, name: string, limit: number) => {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await links(id, name, query).expect(200)).body as Listed;
      ids.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 100);
    return { ids, pages };
  };

  describe('inverse names', () => {
    beforeAll(async () => {
      await defineType({ name: 'Team', properties: [{ name: 'title', dataType: 'string' }] }).expect(201);
      await defineType({
        name: 'Player',
        properties: [
          { name: 'team', dataType: 'reference', referenceType: 'Team', inverseName: 'players' },
          { name: 'mentor', dataType: 'reference', referenceType: 'Player', inverseName: 'mentees' },
        ],
      }).expect(201);
    });

    it('refuses an inverse name taken on the target, twice in one type, or off a reference (400, every one)', async () => {
      const res = await defineType({
        name: 'Coach',
        properties: [
          { name: 'team', dataType: 'reference', referenceType: 'Team', inverseName: 'title' },
          { name: 'team2', dataType: 'reference', referenceType: 'Team', inverseName: 'players' },
          { name: 'team3', dataType: 'reference', referenceType: 'Team', inverseName: 'coaches' },
          { name: 'team4', dataType: 'reference', referenceType: 'Team', inverseName: 'coaches' },
          { name: 'note', dataType: 'string', inverseName: 'x', onDelete: 'cascade' },
          {
            name: 'boss',
            dataType: 'reference',
            referenceType: 'Coach',
            required: true,
            onDelete: 'nullify',
          },
          { name: 'bad', dataType: 'reference', referenceType: 'Team', inverseName: '9x', onDelete: 'drop' },
        ],
      }).expect(400);
      expect(res.body.errors).toEqual(
        expect.arrayContaining([
          { path: '/body/properties/0/inverseName', message: "'title' is a property of Team" },
          { path: '/body/properties/1/inverseName', message: "'players' is already an inverse name of Team" },
          {
            path: '/body/properties/3/inverseName',
            message: "'coaches' is already the inverse name of 'team3'",
          },
          { path: '/body/properties/4/inverseName', message: 'is only allowed when dataType is reference' },
          { path: '/body/properties/4/onDelete', message: 'is only allowed when dataType is reference' },
          {
            path: '/body/properties/5/onDelete',
            message: 'cannot be nullify on a required single-valued reference (use cascade or restrict)',
          },
          expect.objectContaining({ path: '/body/properties/6/inverseName' }),
          { path: '/body/properties/6/onDelete', message: 'must be one of restrict, cascade, nullify' },
        ]),
      );
      expect(res.body.errors).toHaveLength(8);
    });

    it('refuses a property on the target named like an inverse name pointing at it', async () => {
      const res = await t.http
        .put(typePath('Team'))
        .set(t.as('editor'))
        .send({
          name: 'Team',
          properties: [
            { name: 'title', dataType: 'string' },
            { name: 'players', dataType: 'integer' },
          ],
        })
        .expect(400);
      expect(res.body.errors).toEqual([
        { path: '/body/properties/1/name', message: "'players' is the inverse name of Player.team" },
      ]);
    });

    it('follows links both ways, paged by cursor, each item once', async () => {
      await make.document('Team', { title: 'Reds' }, 'reds');
      await make.document('Team', { title: 'Blues' }, 'blues');
      await make.document('Player', { team: 'reds' }, 'p-coach');
      for (let i = 1; i <= 5; i++)
        await make.document('Player', { team: 'reds', mentor: 'p-coach' }, `p-${i}`);
      await make.document('Player', { team: 'blues' }, 'p-other');

      const forward = (await links('p-1', 'team').expect(200)).body as Listed;
      expect(forward).toEqual({
        items: [expect.objectContaining({ id: 'reds', objectType: 'Team' })],
        nextCursor: null,
      });

      const players = await allPages('reds', 'players', 2);
      expect(players).toEqual({ ids: ['p-1', 'p-2', 'p-3', 'p-4', 'p-5', 'p-coach'], pages: 3 });
      const mentees = await allPages('p-coach', 'mentees', 10);
      expect(mentees.ids).toEqual(['p-1', 'p-2', 'p-3', 'p-4', 'p-5']);
      expect(
        (await links('blues', 'players').expect(200)).body.items.map((i: { id: string }) => i.id),
      ).toEqual(['p-other']);
    });

    it('answers 404 for an unknown link or document, 400 for a cursor of another link', async () => {
      const unknown = await links('reds', 'coaches').expect(404);
      expect(unknown.body.detail).toMatch(/neither a reference property nor an inverse name/);
      await links('nobody', 'players').expect(404);
      const page = (await links('reds', 'players', 'limit=1').expect(200)).body as Listed;
      const foreign = await links('p-coach', 'mentees', `cursor=${page.nextCursor}`).expect(400);
      expect(foreign.body.errors).toEqual([{ path: '/query/cursor', message: 'was made for another link' }]);
      await links('reds', 'players', 'limit=0').expect(400);
    });

    it('reads links as they were at a commit (?at=)', async () => {
      const [head] = await commits();
      await make.document('Player', { team: 'reds' }, 'p-late');
      const now = (await links('reds', 'players', 'limit=100').expect(200)).body as Listed;
      const then = (await links('reds', 'players', `limit=100&at=${head!.id}`).expect(200)).body as Listed;
      expect(now.items.map((i) => i.id)).toContain('p-late');
      expect(then.items.map((i) => i.id)).not.toContain('p-late');
    });
  });

  describe('onDelete', () => {
    beforeAll(async () => {
      await defineType({ name: 'Company', properties: [{ name: 'name', dataType: 'string' }] }).expect(201);
      await defineType({
        name: 'Department',
        properties: [
          {
            name: 'company',
            dataType: 'reference',
            referenceType: 'Company',
            onDelete: 'cascade',
            inverseName: 'departments',
          },
        ],
      }).expect(201);
      await defineType(EMPLOYEE).expect(400); // Project does not exist yet
      await defineType({ name: 'Project', properties: [{ name: 'code', dataType: 'string' }] }).expect(201);
      await defineType(EMPLOYEE).expect(201);
      await defineType({
        name: 'Badge',
        properties: [{ name: 'holder', dataType: 'reference', referenceType: 'Employee' }], // restrict
      }).expect(201);
    });

    it('checks cardinality of an array reference on create, replace and patch', async () => {
      await make.document('Project', { code: 'P0' }, 'card-p');
      const none = await t.http
        .post('/api/v1/documents/crud')
        .set(t.as('editor'))
        .send({ objectType: 'Employee', id: 'card-e', properties: { projects: [] } })
        .expect(400);
      expect(none.body.errors).toEqual([
        { path: '/body/properties/projects', message: 'must have at least 1 item' },
      ]);
      await make.document('Employee', { projects: ['card-p'] }, 'card-e');
      await t.http
        .put('/api/v1/documents/crud/card-e')
        .set(t.as('editor'))
        .send({ properties: { projects: ['card-p', 'card-p', 'card-p', 'card-p'] } })
        .expect(400);
      const patched = await t.http
        .patch('/api/v1/documents/crud/card-e')
        .set({ ...t.as('editor'), 'Content-Type': 'application/merge-patch+json' })
        .send({ properties: { projects: null } })
        .expect(200);
      expect(patched.body.properties).toEqual({});
    });

    it('cascades over a chain in one commit and lists what it deleted; nullifies references to them', async () => {
      await make.document('Company', { name: 'Acme' }, 'acme');
      await make.document('Department', { company: 'acme' }, 'd-1');
      await make.document('Department', { company: 'acme' }, 'd-2');
      await make.document('Project', { code: 'P1' }, 'proj-1');
      await make.document('Employee', { department: 'd-1', projects: ['proj-1'] }, 'e-1');
      await make.document('Employee', { department: 'd-2', projects: ['proj-1'], buddy: 'e-1' }, 'e-2');
      // Outside the company, e-1's buddy: nullified, not deleted.
      await make.document('Employee', { buddy: 'e-1', projects: ['proj-1'] }, 'e-out');
      const before = (await commits()).length;
      // Read first, so that the cache holds them: the delete must drop every copy it made stale.
      for (const id of ['d-1', 'e-2']) expect(await exists(id)).toBe(true);
      expect((await get('e-out')).properties).toEqual({ buddy: 'e-1', projects: ['proj-1'] });

      const res = await remove('acme').expect(200);
      const sortById = (list: { id: string }[]) => [...list].sort((a, b) => a.id.localeCompare(b.id));
      expect(res.body.deleted[0]).toEqual({ id: 'acme', objectType: 'Company' });
      expect(sortById(res.body.deleted)).toEqual([
        { id: 'acme', objectType: 'Company' },
        { id: 'd-1', objectType: 'Department' },
        { id: 'd-2', objectType: 'Department' },
        { id: 'e-1', objectType: 'Employee' },
        { id: 'e-2', objectType: 'Employee' },
      ]);
      expect(res.body.updated).toEqual([{ id: 'e-out', objectType: 'Employee' }]);
      for (const id of ['acme', 'd-1', 'd-2', 'e-1', 'e-2']) expect(await exists(id)).toBe(false);
      expect((await get('e-out')).properties).toEqual({ projects: ['proj-1'] });
      const after = await commits();
      expect(after.length).toBe(before + 1);
      expect(after[0]!.message).toBe('Delete document acme');
    });

    it('refuses a nullify that would break cardinality (409 naming it); nothing changes', async () => {
      await make.document('Project', { code: 'P2' }, 'proj-2');
      await make.document('Employee', { projects: ['proj-2'] }, 'only-p2');
      const res = await remove('proj-2').expect(409);
      expect(res.body.violations).toEqual([
        { documentId: 'only-p2', path: '/properties/projects', message: 'must have at least 1 item' },
      ]);
      expect(await exists('proj-2')).toBe(true);
      expect((await get('only-p2')).properties).toEqual({ projects: ['proj-2'] });
    });

    it('refuses a delete a restrict referrer forbids, unless the delete removes the referrer too', async () => {
      await make.document('Company', { name: 'Globex' }, 'globex');
      await make.document('Department', { company: 'globex' }, 'gd');
      await make.document('Project', { code: 'P3' }, 'proj-3');
      await make.document('Employee', { department: 'gd', projects: ['proj-3'] }, 'ge');
      await make.document('Badge', { holder: 'ge' }, 'badge');
      const refused = await remove('globex').expect(409);
      expect(refused.body.referencedBy).toEqual({
        total: 1,
        sample: [{ id: 'badge', objectType: 'Badge', property: 'holder' }],
      });
      expect(await exists('gd')).toBe(true);
      await remove('badge').expect(204); // only itself: 204
      await remove('globex').expect(200);
      expect(await exists('ge')).toBe(false);
    });
  });

  it('refuses a delete that would touch more than MAX_CASCADE documents', async () => {
    const small = await startTestApp(target, { MAX_CASCADE: '2' });
    try {
      const http = small.http;
      const editor = small.as('editor');
      await http.post(typePath()).set(editor).send({ name: 'Root', properties: [] }).expect(201);
      await http
        .post(typePath())
        .set(editor)
        .send({
          name: 'Leaf',
          properties: [{ name: 'root', dataType: 'reference', referenceType: 'Root', onDelete: 'cascade' }],
        })
        .expect(201);
      await http
        .post('/api/v1/documents/crud')
        .set(editor)
        .send({ objectType: 'Root', id: 'r', properties: {} })
        .expect(201);
      for (const id of ['l-1', 'l-2', 'l-3'])
        await http
          .post('/api/v1/documents/crud')
          .set(editor)
          .send({ objectType: 'Leaf', id, properties: { root: 'r' } })
          .expect(201);
      const res = await http.delete('/api/v1/documents/crud/r').set(editor).expect(409);
      expect(res.body).toMatchObject({ title: 'Delete reaches too far', maxCascade: 2 });
      await http.delete('/api/v1/documents/crud/l-3').set(editor).expect(204);
      const ok = await http.delete('/api/v1/documents/crud/r').set(editor).expect(200);
      expect(ok.body.deleted).toHaveLength(3);
    } finally {
      await small.close();
    }
  });
});
