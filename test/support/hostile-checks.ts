/**
 * Pure helpers of the hostile-input suite: URL and header encodings that can carry what the standard
 * encoders refuse (lone surrogates, raw bytes), a canonical JSON form that keeps every own key (`__proto__`
 * included) and sorts keys, RFC 7396 merge patch, and the checks every answer must pass.
 */

/** The bytes of a lone surrogate in generalized UTF-8 (WTF-8 / CESU-8): what no valid UTF-8 holds. */
function surrogateBytes(code: number): string {
  return [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
    .map((b) => `%${b.toString(16).toUpperCase()}`)
    .join('');
}

/** Percent-encodes every character but the unreserved ones; lone surrogates become their (invalid) bytes. */
export function percentEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    const high = code >= 0xd800 && code <= 0xdbff;
    if (high && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out += encodeURIComponent(s.slice(i, i + 2));
      i++;
    } else if (code >= 0xd800 && code <= 0xdfff) out += surrogateBytes(code);
    else {
      const char = s.charAt(i);
      out += /[A-Za-z0-9\-._~]/.test(char) ? char : encodeURIComponent(char);
    }
  }
  return out;
}

/** base64url of text (lone surrogates become U+FFFD, as any UTF-8 encoder makes them) or of raw bytes. */
export const base64url = (content: string | Buffer): string =>
  (typeof content === 'string' ? Buffer.from(content, 'utf8') : content).toString('base64url');

/**
 * A header value Node will send: its bytes as latin1 characters (so UTF-8 text goes out as UTF-8 bytes),
 * without the control bytes Node refuses in a header (NUL, CR, LF, …).
 */
export function headerValue(s: string, encoding: 'utf8' | 'latin1' = 'utf8'): string {
  return [...Buffer.from(s, encoding)]
    .filter((b) => b === 9 || (b >= 0x20 && b !== 0x7f))
    .map((b) => String.fromCharCode(b))
    .join('')
    .trim();
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A string PostgreSQL text/jsonb cannot hold as is: a NUL, or a lone surrogate (not valid Unicode). */
export const unstorableString = (s: string): boolean => s.includes('\u0000') || LONE_SURROGATE.test(s);

/** Removes what unstorableString looks for, keeping everything else (astral characters included). */
export const storable = (s: string): string =>
  s.replaceAll('\u0000', '').replace(new RegExp(LONE_SURROGATE.source, 'g'), '');

/** The first place in a JSON value (keys included) that no store can keep exactly, as a JSON pointer. */
export function unrepresentable(value: unknown, pointer = ''): string | undefined {
  if (typeof value === 'string') return unstorableString(value) ? pointer : undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : pointer;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unrepresentable(value[i], `${pointer}/${i}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value)) {
      if (unstorableString(key)) return `${pointer}/${key}`;
      const found = unrepresentable((value as Record<string, unknown>)[key], `${pointer}/${key}`);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * One text per JSON value, whatever the key order: keys sorted, every own key kept literally (`__proto__`
 * too, as JSON.parse makes it an own key), lone surrogates escaped, non-finite numbers spelled out so a
 * silent `null` shows. -0 and 0 are one JSON number (JSON.stringify writes both as 0).
 */
export function canonical(value: unknown): string {
  if (value === undefined) return '<absent>';
  if (typeof value === 'number' && !Number.isFinite(value)) return `<${value}>`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`).join(',')}}`;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Sets an own data property, also for `__proto__` (an assignment would set the prototype instead). */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** RFC 7396 JSON merge patch, literal about key names. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = {};
  if (isObject(target)) for (const key of Object.keys(target)) define(out, key, target[key]);
  for (const key of Object.keys(patch)) {
    if (patch[key] === null) delete out[key];
    else define(out, key, mergePatch(Object.hasOwn(out, key) ? out[key] : undefined, patch[key]));
  }
  return out;
}

/** Document properties as stored: a null member is an absent one. */
export function withoutNullMembers(properties: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(properties)) if (properties[key] !== null) define(out, key, properties[key]);
  return out;
}

/** Where two JSON values first differ, for a readable failure. */
export function describeDifference(expected: unknown, actual: unknown): string {
  const a = canonical(expected);
  const b = canonical(actual);
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  const around = (s: string) => JSON.stringify(s.slice(Math.max(0, i - 40), i + 60));
  return `differ at character ${i}: expected …${around(a)}…, read back …${around(b)}…`;
}

/**
 * What an object type reads back as, compared with the definition that was sent: every field sent must
 * come back literally; unsent flags read false (a primary key may read required and unique).
 */
export function objectTypeDifferences(sent: unknown, read: unknown): string[] {
  if (!isObject(sent) || !isObject(read)) return ['sent or read body is not an object'];
  const out: string[] = [];
  const same = (what: string, a: unknown, b: unknown) => {
    if (canonical(a) !== canonical(b)) out.push(`${what}: sent ${canonical(a)}, read ${canonical(b)}`);
  };
  for (const key of ['name', 'displayName', 'description', 'primaryKey'])
    if (Object.hasOwn(sent, key) && sent[key] !== null) same(key, sent[key], read[key]);
  const sentProperties = Array.isArray(sent.properties) ? (sent.properties as unknown[]) : [];
  const readProperties = Array.isArray(read.properties) ? (read.properties as unknown[]) : [];
  if (sentProperties.length !== readProperties.length)
    out.push(`properties: sent ${sentProperties.length}, read ${readProperties.length}`);
  for (const [i, p] of sentProperties.entries()) {
    if (!isObject(p)) continue;
    const q = readProperties.find((r) => isObject(r) && r.name === p.name) as Record<string, unknown>;
    if (!q) {
      out.push(`properties/${i}: ${canonical(p.name)} is missing`);
      continue;
    }
    for (const key of ['name', 'dataType', 'enumValues', 'referenceType', 'description'])
      if (Object.hasOwn(p, key) && p[key] !== null) same(`properties/${i}/${key}`, p[key], q[key]);
    for (const flag of ['required', 'array', 'unique']) {
      const expected = Object.hasOwn(p, flag) && p[flag] !== null ? p[flag] : false;
      const keyed = p.name === sent.primaryKey && flag !== 'array' && q[flag] === true;
      if (!keyed) same(`properties/${i}/${flag}`, expected, q[flag] ?? false);
    }
  }
  return out;
}

/** Signs of internals in a response: stack frames, file paths, SQL and driver messages. */
const INTERNALS: RegExp[] = [
  /\n\s+at \S/,
  /\bat (?:\/|file:|node:)\S*:\d+/,
  /\.(?:ts|js):\d+:\d+/,
  /node_modules/,
  /"stack"\s*:/,
  /SQLSTATE/i,
  /\b(?:SELECT\b[\s\S]*\bFROM|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b/,
  /invalid byte sequence/i,
  /invalid input syntax/i,
  /unsupported Unicode escape/i,
  /stack depth limit/i,
  /Maximum call stack/i,
  /out of range for type/i,
  /violates \S+ constraint/i,
  /\bpglite\b/i,
  /\bpostgres(?:ql)?\b/i,
  /relation "\w+"/,
];

/** The internals a response shows that the request did not itself contain (a detail may echo input). */
export function internalsIn(responseText: string, requestText: string): string[] {
  return INTERNALS.filter((re) => re.test(responseText) && !re.test(requestText)).map(String);
}
