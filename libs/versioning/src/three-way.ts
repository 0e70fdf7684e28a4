import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { last } from '@oms/common';
import { EntityKind, EntityRecord, EntityValue } from '@oms/store';

export type ConflictKind = 'field' | 'add-add' | 'delete-modify' | 'schema';
export type Choice = 'ours' | 'theirs' | 'base' | 'value';

/** One place where both sides changed the same thing differently; `id` is stable for the same conflict. */
export interface Conflict {
  id: string;
  kind: ConflictKind;
  objectType: string | null;
  documentId: string;
  /** JSON Pointer into the entity's body ('' for the whole entity). */
  path: string;
  base: unknown;
  ours: unknown;
  theirs: unknown;
}

/** The merged value of one entity, with what it still needs decided. */
export interface MergedEntity {
  kind: EntityKind;
  id: string;
  /** The entity's object type on whichever side has it (a document keeps its type on every side). */
  objectType: string | null;
  ours: EntityValue | null;
  /** The merged value, with each conflict's place holding ours until it is resolved. */
  value: EntityValue | null;
  conflicts: PendingConflict[];
}

interface PendingConflict extends Conflict {
  /** Where the conflict sits in the body (empty: the whole entity). */
  segments: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const same = (a: unknown, b: unknown) => isDeepStrictEqual(a, b);
const pointer = (segments: string[]) =>
  segments.map((s) => `/${s.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');

/**
 * Three-way merge of JSON values at field level: objects member by member (an absent member is undefined),
 * arrays and scalars as whole values. A place both sides changed differently is a conflict; ours holds it.
 */
export function mergeFields(
  base: unknown,
  ours: unknown,
  theirs: unknown,
  at: string[] = [],
): { value: unknown; conflicts: { segments: string[]; base: unknown; ours: unknown; theirs: unknown }[] } {
  if (same(ours, theirs) || same(base, theirs)) return { value: ours, conflicts: [] };
  if (same(base, ours)) return { value: theirs, conflicts: [] };
  if (isObject(ours) && isObject(theirs) && (base === undefined || isObject(base))) {
    const value: Record<string, unknown> = {};
    const conflicts: ReturnType<typeof mergeFields>['conflicts'] = [];
    const keys = new Set([...Object.keys(ours), ...Object.keys(theirs), ...Object.keys(base ?? {})]);
    for (const key of keys) {
      const merged = mergeFields(member(base, key), member(ours, key), member(theirs, key), [...at, key]);
      if (merged.value !== undefined) value[key] = merged.value;
      conflicts.push(...merged.conflicts);
    }
    return { value, conflicts };
  }
  return { value: ours, conflicts: [{ segments: at, base, ours, theirs }] };
}

const member = (o: unknown, key: string): unknown =>
  isObject(o) && Object.hasOwn(o, key) ? o[key] : undefined;

/**
 * Object types merge property by property: their `properties` list is keyed by name for the merge (paths
 * like `/properties/age/dataType`) and listed again afterwards, ours first, then the ones only theirs added.
 */
const TYPE_CODEC = {
  decode(body: unknown): unknown {
    if (!isObject(body) || !Array.isArray(body.properties)) return body;
    const properties = body.properties as { name: string }[];
    return { ...body, properties: Object.fromEntries(properties.map((p) => [p.name, p])) };
  },
  encode(body: unknown): unknown {
    if (!isObject(body) || !isObject(body.properties)) return body;
    return { ...body, properties: Object.values(body.properties) };
  },
};

const codec = (kind: EntityKind) =>
  kind === 'type' ? TYPE_CODEC : { decode: (b: unknown) => b, encode: (b: unknown) => b };

function conflictId(kind: EntityKind, id: string, path: string): string {
  return createHash('sha256').update(`${kind}\u0000${id}\u0000${path}`).digest('hex').slice(0, 16);
}

const toValue = (r: EntityRecord | null): EntityValue | null =>
  r ? { objectType: r.objectType, body: r.body } : null;

/** Merges one entity's three states; conflicts are listed, ours stands in for them until resolved. */
export function mergeEntity(
  kind: EntityKind,
  id: string,
  baseRecord: EntityRecord | null,
  oursRecord: EntityRecord | null,
  theirsRecord: EntityRecord | null,
): MergedEntity {
  const [base, ours, theirs] = [baseRecord, oursRecord, theirsRecord].map(toValue);
  const objectType = (ours ?? theirs ?? base)?.objectType ?? null;
  const result = (value: EntityValue | null, conflicts: PendingConflict[] = []): MergedEntity => ({
    kind,
    id,
    objectType,
    ours: ours ?? null,
    value,
    conflicts,
  });
  if (same(ours, theirs) || same(base, theirs)) return result(ours ?? null);
  if (same(base, ours)) return result(theirs ?? null);
  const conflict = (kindOf: ConflictKind, segments: string[], b: unknown, o: unknown, t: unknown) => {
    const path = pointer(segments);
    return {
      id: conflictId(kind, id, path),
      kind: kind === 'type' ? 'schema' : kindOf,
      objectType: kind === 'type' ? id : objectType,
      documentId: id,
      path,
      base: b ?? null,
      ours: o ?? null,
      theirs: t ?? null,
      segments,
    } satisfies PendingConflict;
  };
  if (!ours || !theirs || !base) {
    const kindOf = base ? 'delete-modify' : 'add-add';
    return result(ours ?? null, [conflict(kindOf, [], base?.body, ours?.body, theirs?.body)]);
  }
  const { decode, encode } = codec(kind);
  const merged = mergeFields(decode(base.body), decode(ours.body), decode(theirs.body));
  return result(
    { objectType: ours.objectType, body: encode(merged.value) },
    merged.conflicts.map((c) =>
      conflict('field', c.segments, encodeAt(kind, c.base), encodeAt(kind, c.ours), encodeAt(kind, c.theirs)),
    ),
  );
}

/** A conflicting value as the client knows it (a type's keyed property list listed again). */
const encodeAt = (kind: EntityKind, v: unknown) =>
  kind === 'type' && isObject(v) && isObject(v.properties) ? codec(kind).encode(v) : v;

export interface Resolution {
  conflictId: string;
  choice: Choice;
  value?: unknown;
}

/**
 * Settles an entity's conflicts: by the resolution given for each, else by the strategy (fail: it stays
 * open). Returns the open ones.
 */
export function resolve(
  entity: MergedEntity,
  resolutions: Map<string, Resolution>,
  strategy: 'fail' | 'ours' | 'theirs',
): Conflict[] {
  const open: Conflict[] = [];
  for (const pending of entity.conflicts) {
    const { segments, ...conflict } = pending;
    const chosen = resolutions.get(conflict.id);
    const choice = chosen?.choice ?? (strategy === 'fail' ? null : strategy);
    if (!choice) {
      open.push(conflict);
      continue;
    }
    const picked =
      choice === 'value'
        ? chosen?.value
        : choice === 'base'
          ? pending.base
          : choice === 'ours'
            ? pending.ours
            : pending.theirs;
    entity.value = place(entity, segments, picked ?? undefined);
  }
  return open;
}

/** The entity with `picked` at `segments` (the whole entity when empty; undefined removes). */
function place(entity: MergedEntity, segments: string[], picked: unknown): EntityValue | null {
  const { objectType } = entity;
  if (segments.length === 0) return picked === undefined ? null : { objectType, body: picked };
  const { decode, encode } = codec(entity.kind);
  // A JSON copy (structuredClone would make objects of another realm under test runners).
  const body = JSON.parse(JSON.stringify(decode(entity.value?.body) ?? {})) as Record<string, unknown>;
  let node = body;
  for (const segment of segments.slice(0, -1)) {
    if (!isObject(node[segment])) node[segment] = {};
    node = node[segment] as Record<string, unknown>;
  }
  const leaf = last(segments);
  if (picked === undefined) delete node[leaf];
  else node[leaf] = picked;
  return { objectType, body: encode(body) };
}

export interface FieldChange {
  path: string;
  before: unknown;
  after: unknown;
}

/** What differs between two bodies, field by field (arrays and scalars whole; absent: null). */
export function fieldChanges(kind: EntityKind, before: unknown, after: unknown): FieldChange[] {
  const { decode } = codec(kind);
  const out: FieldChange[] = [];
  const walk = (a: unknown, b: unknown, at: string[]) => {
    if (same(a, b)) return;
    if (isObject(a) && isObject(b)) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)]))
        walk(member(a, key), member(b, key), [...at, key]);
      return;
    }
    out.push({ path: pointer(at), before: encodeAt(kind, a) ?? null, after: encodeAt(kind, b) ?? null });
  };
  walk(decode(before), decode(after), []);
  return out;
}
