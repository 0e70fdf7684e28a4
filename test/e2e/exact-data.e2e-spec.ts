import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { storeTargets } from '../support/store-targets';

const DOCS = '/api/v1/documents/crud';

describe.each(storeTargets())('values stored exactly or refused on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(target);
    await given(t).type('Measure', [
      { name: 'n', dataType: 'integer' },
      { name: 'x', dataType: 'decimal' },
      { name: 'day', dataType: 'date' },
      { name: 'at', dataType: 'datetime' },
      { name: 'kind', dataType: 'enum', enumValues: ['a', 'b'] },
      { name: 'data', dataType: 'json' },
    ]);
  });
  afterAll(() => t?.close());

  /** Posts raw JSON text, so numbers arrive exactly as written. */
  const post = (properties: string) =>
    t.http
      .post(DOCS)
      .set(t.as('editor'))
      .set('Content-Type', 'application/json')
      .send(`{"objectType":"Measure","properties":${properties}}`);

  it.each([
    ['an integer past 2^53', '{"n":99999999999999999999}', '/body/properties/n'],
    ['an integer one past the safe range', '{"n":9007199254740993}', '/body/properties/n'],
    [
      'a decimal with more digits than a double keeps',
      '{"x":0.1000000000000000055511151231257827}',
      '/body/properties/x',
    ],
    ['a number that underflows to zero', '{"x":1e-400}', '/body/properties/x'],
    [
      'a long number inside a json value',
      '{"data":{"ids":[1,12345678901234567890]}}',
      '/body/properties/data/ids/1',
    ],
  ])('refuses %s with 400 naming it, instead of storing another number', async (_, properties, path) => {
    const res = await post(properties).expect(400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual([path]);
  });

  it('refuses 2^53 in an integer property: a double holds it, but not its neighbours', async () => {
    const res = await post('{"n":9007199254740992}').expect(400);
    expect(res.body.errors).toEqual([{ path: '/body/properties/n', message: 'must be <= 9007199254740991' }]);
  });

  it('stores what a double holds, and gives the same numbers back', async () => {
    const res = await post(
      '{"n":9007199254740991,"x":0.1,"data":{"big":1e300,"small":5e-324,"one":1.0,"e":-12.50}}',
    ).expect(201);
    const back = await t.http.get(`${DOCS}/${res.body.id}`).set(t.as('viewer')).expect(200);
    expect(back.body.properties).toEqual({
      n: 9007199254740991,
      x: 0.1,
      data: { big: 1e300, small: 5e-324, one: 1, e: -12.5 },
    });
  });

  describe('filters accept exactly what writes accept', () => {
    it.each([
      ['x', '0x10', 'must be a valid decimal'],
      ['x', '%201', 'must be a valid decimal'],
      ['x', '12345678901234567890.5', 'must be a valid decimal'],
      ['n', '9007199254740993', 'must be a valid integer'],
      ['day', 'not-a-date', 'must be a date (YYYY-MM-DD)'],
      ['day', '2024-02-30', 'must be a date (YYYY-MM-DD)'],
      ['at', '2024-01-01T00:00:00', 'must be a date-time with a time zone (RFC 3339)'],
      ['kind', 'c', 'must be one of: a, b'],
      ['data', '{"n":12345678901234567890}', expect.stringContaining('cannot be stored exactly')],
    ])('refuses property.%s=%s with 400', async (name, value, message) => {
      const res = await t.http
        .get(`${DOCS}?objectType=Measure&property.${name}=${value}`)
        .set(t.as('viewer'))
        .expect(400);
      expect(res.body.errors[0]).toEqual({
        path: expect.stringContaining(`/query/property.${name}`),
        message,
      });
    });

    it('finds a document by each typed value it was written with', async () => {
      const written = await given(t).document('Measure', {
        n: 42,
        x: 2.5,
        day: '2024-02-29',
        at: '2024-02-29T12:00:00Z',
        kind: 'b',
      });
      for (const [name, value] of [
        ['n', '42'],
        ['x', '2.5'],
        ['day', '2024-02-29'],
        ['at', '2024-02-29T12:00:00Z'],
        ['kind', 'b'],
      ] as const) {
        const res = await t.http
          .get(`${DOCS}?objectType=Measure&property.${name}=${encodeURIComponent(value)}`)
          .set(t.as('viewer'))
          .expect(200);
        expect(res.body.items.map((d: { id: string }) => d.id)).toContain(written.id);
      }
    });
  });
});
