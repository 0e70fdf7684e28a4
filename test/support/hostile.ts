import fc from 'fast-check';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { Property } from './given';
import { base64url, headerValue, percentEncode, storable } from './hostile-checks';
import { BRANCH_NAME_PATTERN } from '@oms/common';
import { DATA_TYPES } from '@oms/schemas';

/**
 * fast-check arbitraries of hostile input for every route of the API: strings with NUL, lone surrogates,
 * astral and control characters; numbers JSON.stringify cannot write (1e400, 2^53+1, 5e-324, -0); nesting
 * of 65, 3,000 and 10,000 levels; odd keys (`__proto__`, `constructor`, `valueOf`, …); raw percent forms
 * in URLs; cursors with hostile fields; headers with raw bytes; bodies with Content-Encoding that lies.
 * Bodies are raw JSON text, so they can say what JSON.stringify cannot.
 */

// ---------------------------------------------------------------------------------------------------------
// The seeded world the requests aim at

export interface SeedType {
  name: string;
  properties: Property[];
  primaryKey?: string;
}

/** Object types covering every dataType, arrays, a unique and a primary key, and Object.prototype names. */
export const SEED_TYPES: SeedType[] = [
  { name: 'Target', properties: [{ name: 'label', dataType: 'string', required: true }] },
  {
    name: 'Everything',
    properties: [
      { name: 'label', dataType: 'string', required: true },
      { name: 'txt', dataType: 'text' },
      { name: 'int', dataType: 'integer' },
      { name: 'dec', dataType: 'decimal' },
      { name: 'flag', dataType: 'boolean' },
      { name: 'day', dataType: 'date' },
      { name: 'at', dataType: 'datetime' },
      { name: 'color', dataType: 'enum', enumValues: ['red', 'grün', '😀'] },
      { name: 'ref', dataType: 'reference', referenceType: 'Target' },
      { name: 'data', dataType: 'json' },
      { name: 'code', dataType: 'string', unique: true },
      { name: 'tags', dataType: 'string', array: true },
      { name: 'nums', dataType: 'integer', array: true },
      { name: 'days', dataType: 'date', array: true },
      { name: 'colors', dataType: 'enum', array: true, enumValues: ['x', 'y'] },
      { name: 'refs', dataType: 'reference', array: true, referenceType: 'Target' },
      { name: 'blobs', dataType: 'json', array: true },
    ],
  },
  {
    name: 'Proto',
    properties: [
      { name: 'valueOf', dataType: 'string', required: true },
      { name: 'toString', dataType: 'integer' },
      { name: 'constructor', dataType: 'json' },
      { name: 'hasOwnProperty', dataType: 'boolean' },
      { name: 'isPrototypeOf', dataType: 'string', array: true },
    ],
  },
  {
    name: 'ProtoOptional',
    properties: [
      { name: 'valueOf', dataType: 'string' },
      { name: 'toString', dataType: 'integer' },
      { name: 'constructor', dataType: 'json' },
      { name: 'hasOwnProperty', dataType: 'boolean' },
    ],
  },
  {
    name: 'Keyed',
    primaryKey: 'email',
    properties: [
      { name: 'email', dataType: 'string' },
      { name: 'n', dataType: 'integer' },
    ],
  },
];

export interface World {
  /** Branches that exist (the fuzz never deletes them). */
  branches: string[];
  /** Seeded documents the fuzz reads, replaces and patches (never deletes). */
  documents: { id: string; objectType: string }[];
  /** Cursors the service made, as a base for hostile ones. */
  cursors: string[];
}

// ---------------------------------------------------------------------------------------------------------
// Strings, numbers, keys, nesting

const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u0000'.repeat(5),
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  'x\ud800y',
  '\udfff\ud800',
  '\ud83d',
  '😀',
  '\u{10ffff}',
  '🏳️‍🌈',
  '\ufffe',
  '\uffff',
  '\ufeff',
  '\u2028\u2029',
  '\u0001\u0002\u001f\u007f',
  '\t\r\n',
  '\u0085',
  'ß',
  'İ',
  '%00',
  '%ED%A0%80',
  '%FF',
  '.',
  '..',
  '/',
  '\\',
  '../..',
  "'; DROP TABLE x; --",
  '$1',
  '{}',
  '[]',
  'null',
  'NaN',
  '1e400',
  '__proto__',
  'constructor',
  'valueOf',
  'main',
  'main\u0000',
  'MAIN',
];

/** One character of any hostile kind. */
const hostileChar = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constant('\u0000') },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);

/** Long strings, up to 5,000 UTF-16 units. */
const longString = fc
  .tuple(
    fc.constantFrom(...NASTY_STRINGS.filter((s) => s.length > 0), 'x', 'é', '😀'),
    fc.integer({ min: 1000, max: 5000 }),
  )
  .map(([unit, length]) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length));

/** Any string: NUL, lone surrogates, astral and control characters, long ones. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 4, arbitrary: fc.string({ unit: hostileChar, maxLength: 24 }) },
  { weight: 1, arbitrary: longString },
);

/** The same, minus NUL and lone surrogates: what a store must keep exactly. */
export const tortureString: fc.Arbitrary<string> = hostileString.map(storable);

/** A string for a URL (path segment or query value), percent-encoded and short enough for any server. */
const urlString = hostileString.map((s) => {
  let encoded = percentEncode(s);
  for (let n = s.length; encoded.length > 6000; n = Math.floor(n / 2)) encoded = percentEncode(s.slice(0, n));
  return encoded;
});

/** Percent forms that decode to nothing valid, or to what a server must not take for a path. */
const RAW_PERCENT = [
  '%00',
  'x%00',
  '%ED%A0%80',
  '%ED%B0%80',
  '%ED%A0%80%ED%B0%80',
  '%FF',
  '%FE%FF',
  '%C0%80',
  '%C0%AF',
  '%E0%80%80',
  '%F4%90%80%80',
  '%F8%88%80%80%80',
  '%',
  '%zz',
  '%%00',
  '%2',
  '%u0000',
  '..',
  '.',
  '%2F',
  '%5C',
  '%0A',
  '%0D%0A',
  '%20',
  '%EF%BF%BF',
  '%F0%9F%98%80',
  '%25',
];

/** A URL component: one of `pool` (valid names), or hostile text, or a raw percent form. */
export function urlComponent(pool: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: pool.length > 0 ? 3 : 0, arbitrary: fc.constantFrom(...pool, '').map(percentEncode) },
    { weight: 3, arbitrary: urlString },
    { weight: 2, arbitrary: fc.constantFrom(...RAW_PERCENT) },
  );
}

/** Numbers as raw JSON text: beyond double range, beyond 2^53, subnormal, negative zero. */
const NUMBER_TEXTS = [
  '0',
  '-0',
  '-0.0',
  '1',
  '-1',
  '0.1',
  '1E2',
  '1e+2',
  '1.0',
  '0.30000000000000004',
  '1e308',
  '-1e308',
  '1.7976931348623157e308',
  '1e400',
  '-1e400',
  '1e-400',
  '5e-324',
  '-5e-324',
  '2.2250738585072014e-308',
  '9007199254740991',
  '9007199254740992',
  '9007199254740993',
  '-9007199254740993',
  '18446744073709551616',
  '123456789012345678901234567890.123456789',
  `1${'0'.repeat(400)}`,
];

export const numberText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NUMBER_TEXTS) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)) },
  { weight: 1, arbitrary: fc.integer().map(String) },
);

/** Keys that are names on Object.prototype, JSON-pointer specials, empty, NUL and surrogates. */
export const ODD_KEYS = [
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__lookupSetter__',
  'prototype',
  'length',
  'then',
  '',
  ' ',
  '/',
  '~',
  '~0',
  '~1',
  'a/b',
  'a~1b',
  '$ref',
  '.',
  '0',
  '-1',
  '😀',
  '\u0000',
  'k\u0000',
  '\ud800',
  '\udfff',
];

/** Raw JSON nesting of a given depth: arrays, objects, or both. */
export function nested(depth: number, kind: 'array' | 'object' | 'mixed'): string {
  if (kind === 'array') return `${'['.repeat(depth)}${']'.repeat(depth)}`;
  if (kind === 'object') return `${'{"a":'.repeat(depth)}0${'}'.repeat(depth)}`;
  const half = Math.ceil(depth / 2);
  return `${'{"__proto__":['.repeat(half)}1${']}'.repeat(half)}`;
}

/** Depths around the limit (JSON_MAX_DEPTH defaults to 64) and far beyond it. */
export const deepText: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom(10, 60, 63, 64, 65, 100, 1000, 3000, 10_000),
    fc.constantFrom('array' as const, 'object' as const, 'mixed' as const),
  )
  .map(([depth, kind]) => nested(depth, kind));

const lit = (s: string) => JSON.stringify(s); // writes NUL as \u0000 and a lone surrogate as \ud800

/** JSON string literals, including escapes JSON.parse accepts but no store can keep, and raw controls. */
export const stringText = (hostile: boolean): fc.Arbitrary<string> =>
  hostile
    ? fc.oneof(
        { weight: 6, arbitrary: hostileString.map(lit) },
        {
          weight: 1,
          arbitrary: fc.constantFrom('"\\uD800"', '"\\uDFFF"', '"\\u0000"', '"a\\u0000"', '"\\/"'),
        },
        { weight: 1, arbitrary: fc.constantFrom('"a\u0001b"', '"\u0000"', '"tab\there"') }, // invalid JSON
      )
    : tortureString.map(lit);

const keyText = (hostile: boolean): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...ODD_KEYS.map(hostile ? (k) => k : storable)).map(lit) },
    { weight: 1, arbitrary: stringText(hostile) },
  );

/**
 * Any JSON value as raw text: odd and duplicate keys, hostile strings and numbers, now and then a deep
 * nest. `hostile: false` keeps to what a store must keep exactly (finite numbers, valid strings).
 */
export function jsonText(hostile: boolean): fc.Arbitrary<string> {
  const scalar = fc.oneof(
    { weight: 3, arbitrary: stringText(hostile) },
    {
      weight: 2,
      arbitrary: hostile ? numberText : numberText.filter((n) => Number.isFinite(JSON.parse(n))),
    },
    { weight: 1, arbitrary: fc.constantFrom('true', 'false', 'null') },
  );
  const { value } = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
    value: fc.oneof({ maxDepth: 4, depthSize: 'small' }, scalar, tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    object: fc
      .array(fc.tuple(keyText(hostile), tie('value')), { maxLength: 5 })
      .map((entries) => `{${entries.map(([k, v]) => `${k}:${v}`).join(',')}}`),
  }));
  return fc.oneof(
    { weight: 12, arbitrary: value },
    { weight: 1, arbitrary: hostile ? deepText : fc.constantFrom(nested(10, 'mixed'), nested(40, 'object')) },
  );
}

// ---------------------------------------------------------------------------------------------------------
// Document properties by dataType

const DATES = ['2020-02-29', '1970-01-01', '9999-12-31', '0001-01-01'];
const BAD_DATES = [
  '2021-02-30',
  '+099999-01-01',
  '0000-01-01',
  '-000001-01-01',
  '2020-1-1',
  '2020-01-01\u0000',
];
const DATETIMES = ['2021-03-01T10:00:00Z', '1970-01-01T00:00:00.000+14:00', '2021-03-01T10:00:00.123456Z'];
const BAD_DATETIMES = [
  '+099999-01-01T00:00:00.000Z',
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00.000Z',
  '0000-01-01T00:00:00Z',
  '2021-03-01T10:00:00',
  '2021-03-01T24:00:01Z',
  '2021-03-01T10:00:00\u0000Z',
];

/** `valid` draws values the type accepts (tortured, but storable); `hostile` mixes in anything. */
export type Mode = 'valid' | 'hostile';

const finite = numberText.filter((n) => Number.isFinite(JSON.parse(n)));
const validDecimal = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  finite,
);
const validInteger = fc.oneof(
  fc.integer().map(String),
  fc.constantFrom('9007199254740991', '-9007199254740991', '-0', '1e2', '1.0', '1E+1'),
);
const someDay = fc.date({ min: new Date('0001-01-01'), max: new Date('9999-12-31'), noInvalidDate: true });

function scalarValue(p: Property, world: World, mode: Mode): fc.Arbitrary<string> {
  const hostile = stringText(true);
  const wrong = fc.constantFrom('[]', '{}', 'true', '"1"', '1.5', 'null');
  const pick = (good: fc.Arbitrary<string>, bad: fc.Arbitrary<string>) =>
    mode === 'valid'
      ? good
      : fc.oneof(
          { weight: 2, arbitrary: good },
          { weight: 2, arbitrary: bad },
          { weight: 1, arbitrary: wrong },
        );
  const targets = world.documents.filter((d) => d.objectType === p.referenceType).map((d) => d.id);
  switch (p.dataType) {
    case 'string':
    case 'text':
      return pick(stringText(false), hostile);
    case 'integer':
      return pick(validInteger, numberText);
    case 'decimal':
      return pick(validDecimal, numberText);
    case 'boolean':
      return pick(fc.constantFrom('true', 'false'), fc.constantFrom('"true"', '0', '1'));
    case 'date':
      return pick(
        fc
          .oneof(
            fc.constantFrom(...DATES),
            someDay.map((d) => d.toISOString().slice(0, 10)),
          )
          .map(lit),
        fc.oneof(fc.constantFrom(...BAD_DATES).map(lit), hostile),
      );
    case 'datetime':
      return pick(
        fc
          .oneof(
            fc.constantFrom(...DATETIMES),
            someDay.map((d) => d.toISOString()),
          )
          .map(lit),
        fc.oneof(fc.constantFrom(...BAD_DATETIMES).map(lit), hostile),
      );
    case 'enum':
      return pick(fc.constantFrom(...p.enumValues!).map(lit), hostile);
    case 'reference':
      return pick(fc.constantFrom(...(targets.length > 0 ? targets : ['none'])).map(lit), hostile);
    case 'json':
      return mode === 'valid'
        ? jsonText(false)
        : fc.oneof({ weight: 1, arbitrary: jsonText(false) }, { weight: 2, arbitrary: jsonText(true) });
    default:
      return hostile;
  }
}

function propertyValue(p: Property, world: World, mode: Mode): fc.Arbitrary<string> {
  const item = scalarValue(p, world, mode);
  if (!p.array) return item;
  const array = fc.array(item, { maxLength: 4 }).map((items) => `[${items.join(',')}]`);
  if (mode === 'valid') return array;
  return fc.oneof(
    { weight: 5, arbitrary: array },
    { weight: 1, arbitrary: item },
    { weight: 1, arbitrary: deepText },
  );
}

/** A `properties` object as raw text: some of the type's properties; hostile ones add odd or repeated keys. */
function propertiesText(type: SeedType, world: World, mode: Mode, patch: boolean): fc.Arbitrary<string> {
  const member = (p: Property) => {
    const value = propertyValue(p, world, mode);
    const required = p.required === true || p.name === type.primaryKey;
    const removable = patch && (mode === 'hostile' || !required);
    return maybe(
      removable
        ? fc.oneof({ weight: 4, arbitrary: value }, { weight: 1, arbitrary: fc.constant('null') })
        : value,
      required && !patch ? (mode === 'valid' ? 1 : 0.92) : 0.3,
    );
  };
  const extra = maybe(
    fc.tuple(
      fc.oneof(keyText(true), fc.constantFrom(...type.properties.map((p) => lit(p.name)))),
      jsonText(true),
    ),
    mode === 'valid' ? 0 : 0.2,
  );
  return fc.tuple(fc.tuple(...type.properties.map(member)), extra).map(([values, odd]) => {
    const entries = type.properties
      .map((p, i) => (values[i] === undefined ? undefined : `${lit(p.name)}:${values[i]}`))
      .filter((e): e is string => e !== undefined);
    if (odd) entries.push(`${odd[0]}:${odd[1]}`);
    return `{${entries.join(',')}}`;
  });
}

// ---------------------------------------------------------------------------------------------------------
// Requests

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** How to read back what a 2xx write accepted. */
export type ReadBack =
  | { kind: 'document-create'; query: string }
  | { kind: 'document-replace' | 'document-patch'; path: string; query: string }
  | { kind: 'object-type'; collection: string }
  | { kind: 'branch' };

export interface HostileRequest {
  /** The route template, for grouping failures. */
  route: string;
  method: Method;
  /** Path and query as sent (already encoded). */
  path: string;
  headers: Record<string, string>;
  /** The body as sent (maybe compressed or not UTF-8). */
  body?: string | Buffer;
  /** The JSON text inside the body: what a server that accepted the request parsed. */
  json?: string;
  /** Sent without a token (login, health). */
  anonymous?: boolean;
  readBack?: ReadBack;
  /** Meant to succeed: plain JSON, valid values (tortured, but storable). */
  clean?: boolean;
}

const API = '/api/v1';
const withQuery = (path: string, parts: (string | undefined)[]) => {
  const query = parts.filter((p): p is string => p !== undefined).join('&');
  return query ? `${path}?${query}` : path;
};
/** `arb` with the given chance, otherwise undefined. */
const maybe = <T>(arb: fc.Arbitrary<T>, chance = 0.5): fc.Arbitrary<T | undefined> =>
  fc.oneof(
    { weight: Math.round((1 - chance) * 100), arbitrary: fc.constant(undefined) },
    { weight: Math.round(chance * 100), arbitrary: arb },
  );

const BRANCH_NAMES = ['fz-1', 'fz-2', 'FZ-1', 'constructor', 'toString', '__proto__', 'valueOf', 'main'];
const TYPE_NAMES = [
  'Fz1',
  'Fz2',
  'constructor',
  'valueOf',
  'toString',
  'hasOwnProperty',
  'Object',
  '__proto__',
];
const PROPERTY_NAMES = [
  'valueOf',
  'constructor',
  'toString',
  'hasOwnProperty',
  'isPrototypeOf',
  '__proto__',
  'a',
];

const etag = fc.oneof(
  fc.constantFrom(
    '*',
    '"1"',
    '"2"',
    'W/"1"',
    '"0"',
    '"-1"',
    '"1e400"',
    '"9007199254740993"',
    '""',
    '"1", "2"',
  ),
  fc.constantFrom(',', '"abc', 'abc"', 'W/', '"\u0080\u00ff"', `"${'1'.repeat(400)}"`, 'x'.repeat(2000)),
  hostileString.map((s) => headerValue(s).slice(0, 2000)),
);

/** X-Commit-Message: UTF-8 (astral, controls dropped by Node), raw invalid bytes, long. */
const commitMessage = fc.oneof(
  { weight: 3, arbitrary: hostileString.map((s) => headerValue(s).slice(0, 2000)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '\u00ed\u00a0\u0080',
      '\u00ff\u00fe',
      '\u00c0\u0080',
      '\u00f4\u0090\u0080\u0080',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom('%00', '=?UTF-8?B?AA==?=', ' '.repeat(100), 'é'.repeat(2000)) },
);

interface Draft {
  route: string;
  method: Method;
  path: string;
  json?: string;
  anonymous?: boolean;
  readBack?: ReadBack;
  /** A request meant to succeed: plain JSON, no lying encoding, no If-Match, a UTF-8 commit message. */
  clean?: boolean;
}

const JSON_TYPES = [
  ...Array<string>(12).fill('application/json'),
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/vnd.api+json',
  'text/plain',
];
const PATCH_TYPES = [
  ...Array<string>(12).fill('application/merge-patch+json'),
  'application/merge-patch+json; charset=utf-8',
  'application/json',
];

/** A body as raw JSON text, with a malformed or hostile top level now and then. */
const bodyOr = (wellFormed: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 10, arbitrary: wellFormed },
    { weight: 1, arbitrary: jsonText(true) },
    { weight: 1, arbitrary: deepText },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '{',
        '{"a":1,}',
        '',
        'nul',
        '"\\ud800"',
        '[]',
        'null',
        '1e400',
        '{"a":1}{',
        '\ufeff{}',
      ),
    },
  );

/** Wraps a draft: content type, compression that may lie, hostile headers. */
function finish(draft: fc.Arbitrary<Draft>): fc.Arbitrary<HostileRequest> {
  return fc
    .tuple(
      draft,
      fc.constantFrom(...JSON_TYPES),
      fc.constantFrom(...PATCH_TYPES),
      maybe(
        fc.tuple(
          fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-gzip', 'zstd', 'gzip, gzip', 'GZIP'),
          fc.constantFrom('plain', 'compressed', 'truncated', 'bomb'),
        ),
        0.08,
      ),
      maybe(commitMessage, 0.4),
      maybe(
        tortureString.map((s) => headerValue(s).slice(0, 500)),
        0.5,
      ),
      maybe(etag, 0.25),
      maybe(etag, 0.2),
      maybe(
        hostileString.map((s) => headerValue(s).slice(0, 300)),
        0.1,
      ),
    )
    .map(
      ([d, jsonType, patchType, encoding, hostileMessage, cleanMessage, ifMatch, ifNoneMatch, requestId]) => {
        const headers: Record<string, string> = {};
        const message = d.clean ? cleanMessage : hostileMessage;
        if (message !== undefined && d.method !== 'GET') headers['X-Commit-Message'] = message;
        if (ifMatch !== undefined && d.method !== 'GET' && !d.clean) headers['If-Match'] = ifMatch;
        if (ifNoneMatch !== undefined && !d.clean) headers['If-None-Match'] = ifNoneMatch;
        if (requestId !== undefined) headers['X-Request-Id'] = requestId;
        let body: string | Buffer | undefined = d.json;
        if (d.json !== undefined) {
          const plain = d.method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
          headers['Content-Type'] = d.clean ? plain : d.method === 'PATCH' ? patchType : jsonType;
          if (encoding && !d.clean) {
            const [name, mode] = encoding;
            headers['Content-Encoding'] = name;
            body = encode(d.json, name, mode);
          }
        }
        // Node answers a request head over 16 KiB itself (431, no problem document): stay under it.
        const size = d.path.length + Object.values(headers).join('').length;
        if (size > 14_000)
          for (const k of ['If-Match', 'If-None-Match', 'X-Commit-Message', 'X-Request-Id'])
            delete headers[k];
        return {
          route: d.route,
          method: d.method,
          path: d.path,
          headers,
          body,
          json: d.json,
          anonymous: d.anonymous,
          readBack: d.readBack,
          clean: d.clean,
        };
      },
    );
}

let bomb: Buffer | undefined;
/** A body in the named encoding, correctly or not. */
function encode(json: string, name: string, mode: string): string | Buffer {
  const compress = (data: Buffer) =>
    /^(x-)?gzip$/i.test(name)
      ? gzipSync(data)
      : name === 'deflate'
        ? deflateSync(data)
        : name === 'br'
          ? brotliCompressSync(data)
          : data;
  if (mode === 'plain') return json;
  if (mode === 'bomb') return (bomb ??= gzipSync(Buffer.from(`{"a":"${' '.repeat(4 * 1024 * 1024)}"}`)));
  const compressed = compress(Buffer.from(json, 'utf8'));
  return mode === 'truncated' ? compressed.subarray(0, Math.max(1, compressed.length >> 1)) : compressed;
}

// ---------------------------------------------------------------------------------------------------------
// Query parameters

const limitValue = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('1', '2', '50', '1000') },
  fc.constantFrom(
    '0',
    '1001',
    '-1',
    '1e3',
    '1.5',
    'NaN',
    'Infinity',
    '9007199254740993',
    '',
    '%205',
    '0x10',
    '%00',
    '1%00',
    '[]',
  ),
  urlString,
);

/** Cursors: the service's own, mangled, and base64url JSON with hostile `id`, `createdAt`, `sort`. */
function documentCursor(world: World): fc.Arbitrary<string> {
  const createdAt = fc.oneof(
    fc
      .constantFrom(...BAD_DATETIMES, '2021-03-01T10:00:00Z', 'Tue, 01 Jan 2999 00:00:00 GMT', '1', '0')
      .map(lit),
    fc.constantFrom('0', '1e400', '[]', '{}', 'null', '"\\u0000"', '"\\ud800"'),
  );
  const id = fc.oneof(stringText(true), fc.constantFrom('0', '[]', 'null', '"\\u0000"', '"x\\u0000"'));
  const sort = fc.constantFrom('"id"', '"-id"', '"createdAt"', '"-createdAt"', '"__proto__"', '"\\u0000"');
  const json = fc
    .tuple(sort, id, maybe(createdAt), maybe(fc.tuple(keyText(true), jsonText(true)), 0.2))
    .map(
      ([s, i, c, extra]) =>
        `{"sort":${s},"id":${i}${c ? `,"createdAt":${c}` : ''}${extra ? `,${extra[0]}:${extra[1]}` : ''}}`,
    );
  return fc
    .oneof(
      { weight: 4, arbitrary: json.map(base64url) },
      { weight: 1, arbitrary: deepText.map(base64url) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => base64url(Buffer.from(b))) },
      { weight: 1, arbitrary: fc.constantFrom(...world.cursors).map((c) => `${c}${c}`) },
      { weight: 1, arbitrary: fc.constantFrom(...world.cursors, 'e30', 'bnVsbA', '+/==', '====', '%00') },
    )
    .map(percentEncodeCursor);
}

/** Cursors travel in the query: base64url needs no encoding, anything else gets it (raw forms stay). */
const percentEncodeCursor = (c: string) =>
  /^[A-Za-z0-9_-]*$/.test(c) || c.startsWith('%') ? c : percentEncode(c);

const commitCursor = fc
  .oneof(
    fc
      .oneof(
        numberText,
        fc.constantFrom('"1"', 'null', '[]', '2147483648', '-2147483649', '9223372036854775808'),
      )
      .map((before) => base64url(`{"before":${before}}`)),
    deepText.map(base64url),
    fc.constantFrom('e30', '%00', '!!!'),
  )
  .map(percentEncodeCursor);

/** `property.<name>=` filters: typed values, hostile text, deep arrays (raw brackets fit in a request line). */
function filters(): fc.Arbitrary<string[]> {
  const typed = SEED_TYPES.flatMap((t) => t.properties.map((p) => p.name));
  const name = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...typed).map(percentEncode) },
    { weight: 1, arbitrary: urlComponent(PROPERTY_NAMES) },
  );
  const value = fc.oneof(
    { weight: 3, arbitrary: urlString },
    {
      weight: 2,
      arbitrary: jsonText(true)
        .filter((j) => j.length < 3000)
        .map(percentEncode),
    },
    { weight: 1, arbitrary: fc.constantFrom(100, 1000, 5000).map((d) => nested(d, 'array')) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_PERCENT) },
  );
  return fc.array(
    fc.tuple(name, value).map(([n, v]) => `property.${n}=${v}`),
    { minLength: 1, maxLength: 3 },
  );
}

const oddQuery = fc.constantFrom(
  '__proto__=1',
  'constructor=x',
  'hasOwnProperty=1',
  'foo=%00',
  'branch[]=main',
  'limit=1&limit=2',
);

// ---------------------------------------------------------------------------------------------------------
// Routes

function authRoutes(): fc.Arbitrary<Draft>[] {
  const login = bodyOr(
    fc
      .tuple(stringText(true), stringText(true), maybe(fc.tuple(keyText(true), jsonText(true)), 0.2))
      .map(([u, p, extra]) => `{"username":${u},"password":${p}${extra ? `,${extra[0]}:${extra[1]}` : ''}}`),
  );
  return [
    login.map((json) => ({
      route: 'POST /api/v1/auth/login',
      method: 'POST',
      path: `${API}/auth/login`,
      json,
      anonymous: true,
    })),
    fc.constant({ route: 'GET /api/v1/auth/me', method: 'GET', path: `${API}/auth/me` }),
  ];
}

function userRoutes(): fc.Arbitrary<Draft>[] {
  const username = urlComponent(['editor', 'viewer', 'nobody', 'constructor']);
  const roles = fc.oneof(
    fc.constantFrom('["viewer"]', '["admin","editor"]', '[]', '["__proto__"]', '"admin"', 'null'),
    jsonText(true),
  );
  const user = fc
    .tuple(stringText(true), stringText(true), roles)
    .map(([u, p, r]) => `{"username":${u},"password":${p},"roles":${r}}`);
  const change = fc
    .tuple(maybe(roles, 0.6), maybe(stringText(true), 0.6))
    .map(([r, p]) => `{${[r && `"roles":${r}`, p && `"password":${p}`].filter(Boolean).join(',')}}`);
  return [
    fc.constant({ route: 'GET /api/v1/users', method: 'GET', path: `${API}/users` }),
    bodyOr(user).map((json) => ({ route: 'POST /api/v1/users', method: 'POST', path: `${API}/users`, json })),
    username.map((u) => ({
      route: 'DELETE /api/v1/users/{username}',
      method: 'DELETE',
      path: `${API}/users/${u}`,
    })),
    fc.tuple(username, bodyOr(change)).map(([u, json]) => ({
      route: 'PATCH /api/v1/users/{username}',
      method: 'PATCH',
      path: `${API}/users/${u}`,
      json,
    })),
  ];
}

function branchRoutes(world: World): fc.Arbitrary<Draft>[] {
  const existing = urlComponent(world.branches);
  const scratch = urlComponent(BRANCH_NAMES);
  const create = fc
    .tuple(
      fc.oneof(
        fc.constantFrom(...BRANCH_NAMES).map(lit),
        fc.stringMatching(BRANCH_NAME_PATTERN).map(lit),
        stringText(true),
      ),
      maybe(fc.oneof(fc.constantFrom(...world.branches).map(lit), stringText(true)), 0.7),
    )
    .map(([name, from]) => `{"name":${name}${from ? `,"from":${from}` : ''}}`);
  const commitsQuery = fc
    .tuple(maybe(limitValue), maybe(commitCursor))
    .map(([l, c]) => [l && `limit=${l}`, c && `cursor=${c}`])
    .filter((parts) => parts.join('&').length < 13_000);
  return [
    fc.constant({ route: 'GET /api/v1/branches', method: 'GET', path: `${API}/branches` }),
    bodyOr(create).map((json) => ({
      route: 'POST /api/v1/branches',
      method: 'POST',
      path: `${API}/branches`,
      json,
      readBack: { kind: 'branch' },
    })),
    existing.map((b) => ({
      route: 'GET /api/v1/branches/{branch}',
      method: 'GET',
      path: `${API}/branches/${b}`,
    })),
    scratch.map((b) => ({
      route: 'DELETE /api/v1/branches/{branch}',
      method: 'DELETE',
      path: `${API}/branches/${b}`,
    })),
    fc.tuple(existing, commitsQuery).map(([b, q]) => ({
      route: 'GET /api/v1/branches/{branch}/commits',
      method: 'GET',
      path: withQuery(`${API}/branches/${b}/commits`, q),
    })),
  ];
}

/** An object type definition as raw text; `valid` ones pass every rule (names, flags, enum, reference). */
function objectTypeBody(name: fc.Arbitrary<string>, mode: Mode): fc.Arbitrary<string> {
  const text =
    mode === 'valid'
      ? tortureString.filter((v) => v.length <= 200).map(lit)
      : fc.oneof(stringText(false), stringText(true));
  const flag =
    mode === 'valid'
      ? fc.constantFrom('true', 'false')
      : fc.constantFrom('true', 'false', 'true', 'false', '"true"', '1', 'null');
  const validName = fc.oneof(
    fc.constantFrom(...PROPERTY_NAMES.filter((n) => /^[A-Za-z]/.test(n))),
    fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,10}$/),
  );
  const enumValues = fc
    .uniqueArray(
      tortureString.filter((v) => v.length > 0 && v.length <= 200),
      { minLength: 1, maxLength: 4 },
    )
    .map((v) => `[${v.map(lit).join(',')}]`);
  const property = fc
    .tuple(
      mode === 'valid'
        ? validName.map(lit)
        : fc.oneof(
            fc.constantFrom(...PROPERTY_NAMES).map(lit),
            fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,10}$/).map(lit),
            stringText(true),
          ),
      mode === 'valid'
        ? fc.constantFrom(...DATA_TYPES).map(lit)
        : fc.oneof(
            { weight: 6, arbitrary: fc.constantFrom(...DATA_TYPES).map(lit) },
            { weight: 1, arbitrary: stringText(true) },
          ),
      fc.tuple(maybe(flag, 0.4), maybe(flag, 0.3), maybe(flag, mode === 'valid' ? 0 : 0.2)),
      mode === 'valid'
        ? enumValues
        : maybe(
            fc
              .array(fc.oneof(stringText(false), stringText(true)), { maxLength: 4 })
              .map((v) => `[${v.join(',')}]`),
            0.15,
          ),
      maybe(fc.oneof(fc.constantFrom('"Target"', '"Everything"', '"constructor"'), stringText(true)), 0.15),
      maybe(text),
    )
    .map(([n, dataType, [required, array, unique], enumValues, referenceType, description]) => {
      const type = dataType.slice(1, -1); // the literal's text; hostile ones match no data type
      const valid = mode === 'valid';
      const members = [
        `"name":${n}`,
        `"dataType":${dataType}`,
        required && `"required":${required}`,
        array && `"array":${array}`,
        unique && `"unique":${unique}`,
        (type === 'enum' || (!valid && enumValues)) && `"enumValues":${enumValues ?? '["a","😀"]'}`,
        (type === 'reference' || (!valid && referenceType)) &&
          `"referenceType":${valid ? '"Target"' : (referenceType ?? '"Target"')}`,
        description && `"description":${description}`,
      ];
      return [n, `{${members.filter(Boolean).join(',')}}`] as const;
    });
  const properties =
    mode === 'valid'
      ? fc.uniqueArray(property, { maxLength: 4, selector: ([n]) => n })
      : fc.array(property, { maxLength: 4 });
  return fc
    .tuple(
      name,
      maybe(text),
      maybe(text),
      maybe(
        fc.oneof(fc.constantFrom(...PROPERTY_NAMES).map(lit), stringText(true)),
        mode === 'valid' ? 0 : 0.2,
      ),
      properties,
    )
    .map(([n, displayName, description, primaryKey, ps]) => {
      const members = [
        `"name":${n}`,
        displayName && `"displayName":${displayName}`,
        description && `"description":${description}`,
        primaryKey && `"primaryKey":${primaryKey}`,
        `"properties":[${ps.map(([, p]) => p).join(',')}]`,
      ];
      return `{${members.filter(Boolean).join(',')}}`;
    });
}

/** Half the writes are meant to succeed (valid, tortured values), half are hostile. */
const moded = <T>(build: (mode: Mode) => fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof(build('valid'), build('hostile'));

function schemaRoutes(world: World): fc.Arbitrary<Draft>[] {
  const branch = (mode: Mode) =>
    mode === 'valid' ? fc.constantFrom(...world.branches).map(percentEncode) : urlComponent(world.branches);
  const seeded = urlComponent(SEED_TYPES.map((t) => t.name));
  const scratch = fc.oneof(
    fc.constantFrom(...TYPE_NAMES.filter((n) => /^[A-Za-z]/.test(n))),
    fc.stringMatching(/^Fz[A-Za-z0-9_]{0,8}$/),
  );
  const newName = (mode: Mode) =>
    mode === 'valid'
      ? scratch.map(lit)
      : fc.oneof(
          { weight: 4, arbitrary: scratch.map(lit) },
          { weight: 1, arbitrary: fc.constantFrom(...SEED_TYPES.map((t) => t.name)).map(lit) },
          { weight: 2, arbitrary: stringText(true) },
        );
  const body = (mode: Mode, name: fc.Arbitrary<string>) =>
    mode === 'valid' ? objectTypeBody(name, mode) : bodyOr(objectTypeBody(name, mode));
  const collection = (b: string) => `${API}/schemas/${b}/object-types`;
  return [
    branch('hostile').map((b) => ({
      route: 'GET /api/v1/schemas/{branch}/object-types',
      method: 'GET',
      path: collection(b),
    })),
    moded((mode) =>
      fc.tuple(branch(mode), body(mode, newName(mode))).map(([b, json]) => ({
        route: 'POST /api/v1/schemas/{branch}/object-types',
        method: 'POST' as const,
        path: collection(b),
        json,
        clean: mode === 'valid',
        readBack: { kind: 'object-type' as const, collection: collection(b) },
      })),
    ),
    fc.tuple(branch('hostile'), seeded).map(([b, n]) => ({
      route: 'GET /api/v1/schemas/{branch}/object-types/{typeName}',
      method: 'GET',
      path: `${collection(b)}/${n}`,
    })),
    moded((mode) =>
      fc
        .tuple(
          branch(mode),
          mode === 'valid'
            ? scratch.map((n): [string, string] => [percentEncode(n), lit(n)])
            : fc.oneof(
                { weight: 4, arbitrary: scratch.map((n): [string, string] => [percentEncode(n), lit(n)]) },
                { weight: 1, arbitrary: fc.tuple(urlComponent(TYPE_NAMES), stringText(true)) },
              ),
        )
        .chain(([b, [segment, name]]) =>
          body(
            mode,
            mode === 'valid'
              ? fc.constant(name)
              : fc.oneof(
                  { weight: 4, arbitrary: fc.constant(name) },
                  { weight: 1, arbitrary: newName(mode) },
                ),
          ).map((json) => ({
            route: 'PUT /api/v1/schemas/{branch}/object-types/{typeName}',
            method: 'PUT' as const,
            path: `${collection(b)}/${segment}`,
            json,
            clean: mode === 'valid',
            readBack: { kind: 'object-type' as const, collection: collection(b) },
          })),
        ),
    ),
    fc.tuple(branch('hostile'), urlComponent(TYPE_NAMES)).map(([b, n]) => ({
      route: 'DELETE /api/v1/schemas/{branch}/object-types/{typeName}',
      method: 'DELETE',
      path: `${collection(b)}/${n}`,
    })),
  ];
}

function documentRoutes(world: World): fc.Arbitrary<Draft>[] {
  const DOCS = `${API}/documents/crud`;
  const branchQuery = (mode: Mode) =>
    mode === 'valid'
      ? fc.constantFrom('', 'branch=main', 'branch=fuzz')
      : fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom('', 'branch=main', 'branch=fuzz') },
          { weight: 2, arbitrary: urlComponent(world.branches).map((b) => `branch=${b}`) },
          {
            weight: 1,
            arbitrary: fc.constantFrom('branch=', 'branch=main&branch=fuzz', 'branch=main&__proto__=x'),
          },
        );
  const typeOf = (name: string) => SEED_TYPES.find((t) => t.name === name)!;
  const seededType = fc.constantFrom(...SEED_TYPES);
  const freshId = fc.stringMatching(/^[A-Za-z0-9._:-]{0,24}$/).map((s) => `fz-${s}`);
  const hostileId = urlComponent(['every-1', 'target-1']);
  const anId = (mode: Mode) =>
    mode === 'valid'
      ? freshId.map(lit)
      : fc.oneof(
          { weight: 4, arbitrary: freshId.map(lit) },
          { weight: 1, arbitrary: fc.constantFrom(...world.documents.map((d) => d.id)).map(lit) },
          { weight: 2, arbitrary: stringText(true) },
        );
  const create = (mode: Mode) =>
    seededType.chain((type) =>
      fc
        .tuple(
          mode === 'valid'
            ? fc.constant(lit(type.name))
            : fc.oneof(
                { weight: 6, arbitrary: fc.constant(lit(type.name)) },
                { weight: 1, arbitrary: stringText(true) },
              ),
          maybe(anId(mode), 0.75),
          propertiesText(type, world, mode, false),
        )
        .map(
          ([objectType, id, properties]) =>
            `{"objectType":${objectType}${id ? `,"id":${id}` : ''},"properties":${properties}}`,
        ),
    );
  const seededDoc = fc.constantFrom(...world.documents);
  const target = (mode: Mode) =>
    fc.oneof(
      {
        weight: 5,
        arbitrary: seededDoc.map((d) => ({ segment: percentEncode(d.id), type: typeOf(d.objectType) })),
      },
      {
        weight: 1,
        arbitrary: fc.tuple(freshId, seededType).map(([id, type]) => ({ segment: percentEncode(id), type })),
      },
      {
        weight: mode === 'valid' ? 0 : 2,
        arbitrary: fc.tuple(hostileId, seededType).map(([segment, type]) => ({ segment, type })),
      },
    );
  const replace = (type: SeedType, mode: Mode) =>
    fc
      .tuple(
        propertiesText(type, world, mode, false),
        maybe(
          mode === 'valid'
            ? fc.constant(lit(type.name))
            : fc.oneof(fc.constant(lit(type.name)), stringText(true)),
          mode === 'valid' ? 1 : 0.5,
        ),
      )
      .map(
        ([properties, objectType]) =>
          `{"properties":${properties}${objectType ? `,"objectType":${objectType}` : ''}}`,
      );
  const patch = (type: SeedType, mode: Mode) =>
    fc
      .tuple(
        propertiesText(type, world, mode, true),
        maybe(
          fc.constantFrom(
            '"id":"other"',
            '"version":1',
            `"objectType":${lit(type.name)}`,
            '"createdAt":null',
            '"properties":null',
          ),
          mode === 'valid' ? 0 : 0.15,
        ),
      )
      .map(([properties, other]) => `{"properties":${properties}${other ? `,${other}` : ''}}`);
  const body = (mode: Mode, text: fc.Arbitrary<string>) => (mode === 'valid' ? text : bodyOr(text));
  const listQuery = fc
    .tuple(
      branchQuery('hostile'),
      maybe(
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...SEED_TYPES.map((t) => t.name)) },
          { weight: 1, arbitrary: urlComponent(SEED_TYPES.map((t) => t.name)) },
        ),
        0.7,
      ),
      maybe(limitValue, 0.4),
      maybe(fc.constantFrom('id', '-id', 'createdAt', '-createdAt', '__proto__', '%00', 'toString'), 0.3),
      maybe(documentCursor(world), 0.35),
      maybe(filters(), 0.4),
      maybe(oddQuery, 0.1),
    )
    .map(([b, type, limit, sort, cursor, f, odd]) => [
      b || undefined,
      type && `objectType=${type}`,
      limit && `limit=${limit}`,
      sort && `sort=${sort}`,
      cursor && `cursor=${cursor}`,
      ...(f ?? []),
      odd,
    ])
    .filter((parts) => parts.join('&').length < 13_000);
  return [
    listQuery.map((q) => ({ route: 'GET /api/v1/documents/crud', method: 'GET', path: withQuery(DOCS, q) })),
    moded((mode) =>
      fc.tuple(branchQuery(mode), body(mode, create(mode))).map(([q, json]) => ({
        route: 'POST /api/v1/documents/crud',
        method: 'POST' as const,
        path: withQuery(DOCS, [q || undefined]),
        json,
        clean: mode === 'valid',
        readBack: { kind: 'document-create' as const, query: q },
      })),
    ),
    fc
      .tuple(
        fc.oneof(
          seededDoc.map((d) => percentEncode(d.id)),
          hostileId,
        ),
        branchQuery('hostile'),
      )
      .map(([id, q]) => ({
        route: 'GET /api/v1/documents/crud/{id}',
        method: 'GET',
        path: withQuery(`${DOCS}/${id}`, [q || undefined]),
      })),
    moded((mode) =>
      fc.tuple(target(mode), branchQuery(mode)).chain(([{ segment, type }, q]) =>
        body(mode, replace(type, mode)).map((json) => ({
          route: 'PUT /api/v1/documents/crud/{id}',
          method: 'PUT' as const,
          path: withQuery(`${DOCS}/${segment}`, [q || undefined]),
          json,
          clean: mode === 'valid',
          readBack: { kind: 'document-replace' as const, path: `${DOCS}/${segment}`, query: q },
        })),
      ),
    ),
    moded((mode) =>
      fc.tuple(target(mode), branchQuery(mode)).chain(([{ segment, type }, q]) =>
        body(mode, patch(type, mode)).map((json) => ({
          route: 'PATCH /api/v1/documents/crud/{id}',
          method: 'PATCH' as const,
          path: withQuery(`${DOCS}/${segment}`, [q || undefined]),
          json,
          clean: mode === 'valid',
          readBack: { kind: 'document-patch' as const, path: `${DOCS}/${segment}`, query: q },
        })),
      ),
    ),
    fc
      .tuple(fc.oneof(freshId.map(percentEncode), urlComponent([])), branchQuery('hostile'))
      .map(([id, q]) => ({
        route: 'DELETE /api/v1/documents/crud/{id}',
        method: 'DELETE',
        path: withQuery(`${DOCS}/${id}`, [q || undefined]),
      })),
  ];
}

function otherRoutes(): fc.Arbitrary<Draft>[] {
  const query = maybe(
    fc.oneof(
      oddQuery,
      urlString.map((s) => `x=${s}`),
    ),
    0.5,
  );
  return [
    query.map((q) => ({
      route: 'GET /api/v1/admin/resilience',
      method: 'GET',
      path: withQuery(`${API}/admin/resilience`, [q]),
    })),
    query.map((q) => ({
      route: 'GET /health/live',
      method: 'GET',
      path: withQuery('/health/live', [q]),
      anonymous: true,
    })),
    query.map((q) => ({
      route: 'GET /health/ready',
      method: 'GET',
      path: withQuery('/health/ready', [q]),
      anonymous: true,
    })),
    urlComponent(['x']).map((s) => ({ route: 'GET /api/v1/{unknown}', method: 'GET', path: `${API}/${s}` })),
  ];
}

/** Every route of the API, with hostile parameters, headers and bodies; documents and schemas most often. */
export function hostileRequest(world: World): fc.Arbitrary<HostileRequest> {
  const weighted = (weight: number, routes: fc.Arbitrary<Draft>[]) =>
    routes.map((arbitrary) => ({ weight, arbitrary }));
  return finish(
    fc.oneof(
      ...weighted(2, authRoutes()),
      ...weighted(1, userRoutes()),
      ...weighted(3, branchRoutes(world)),
      ...weighted(4, schemaRoutes(world)),
      ...weighted(7, documentRoutes(world)),
      ...weighted(1, otherRoutes()),
    ),
  );
}
