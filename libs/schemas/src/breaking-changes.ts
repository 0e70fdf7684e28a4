import { BreakingChange, Violation } from '@oms/common';
import { EntityRecord } from '@oms/store';
import { DocumentProperties } from './document-schema';
import {
  ObjectTypeDefinition,
  PropertyDefinition,
  PropertyPath,
  effective,
  leaf,
  valuesAt,
} from './object-type.model';

const SAMPLE_SIZE = 10;

/** A change to one property that could make existing documents invalid. */
export interface PropertyChange {
  /** In words, for the problem document. */
  description: string;
  /** Paths (the property, or members of it) that became unique: the whole set is needed (duplicates). */
  uniqueAdded: PropertyPath[];
  /** Paths whose reference was retargeted: the referenced documents' types must be looked up. */
  referenceChanged: PropertyPath[];
}

/** The risky changes between two definitions, by (top-level) property name. */
export function riskyChanges(
  before: ObjectTypeDefinition,
  after: ObjectTypeDefinition,
): Map<string, PropertyChange> {
  const changes = new Map<string, PropertyChange>();
  const old = new Map(before.properties.map((p) => [p.name, effective(before, p)]));
  for (const [name] of old) {
    if (!after.properties.some((p) => p.name === name))
      changes.set(name, { description: `property '${name}' removed`, uniqueAdded: [], referenceChanged: [] });
  }
  for (const declared of after.properties) {
    const next = effective(after, declared);
    const prev = old.get(next.name);
    const change: PropertyChange = { description: '', uniqueAdded: [], referenceChanged: [] };
    const words = prev
      ? describe(prev, next, next.name, [next], change)
      : next.required
        ? [`required property '${next.name}' added`]
        : [];
    if (!prev && next.unique) change.uniqueAdded.push([next]);
    if (words.length > 0) changes.set(next.name, { ...change, description: words.join(', ') });
  }
  return changes;
}

/**
 * What changed from `prev` to `next` that documents could break on, in words (`n`: the property's name, or
 * its dotted path in a struct); collects the set-wide checks the changes need into `change`.
 */
function describe(
  prev: PropertyDefinition,
  next: PropertyDefinition,
  n: string,
  path: PropertyPath,
  change: PropertyChange,
): string[] {
  const words: string[] = [];
  const uniqueAdded = !prev.unique && next.unique;
  const referenceChanged =
    prev.dataType === 'reference' &&
    next.dataType === 'reference' &&
    prev.referenceType !== next.referenceType;
  if (uniqueAdded) change.uniqueAdded.push(path);
  if (referenceChanged) change.referenceChanged.push(path);
  if (prev.dataType === 'struct' && next.dataType === 'struct')
    words.push(...members(prev, next, n, path, change));
  if (prev.dataType !== next.dataType)
    words.push(`property '${n}' changed type from ${prev.dataType} to ${next.dataType}`);
  if (prev.array !== next.array) {
    words.push(
      `property '${n}' changed from ${prev.array ? 'array to single value' : 'single value to array'}`,
    );
  }
  if (!prev.required && next.required) words.push(`property '${n}' became required`);
  if (prev.dataType === 'enum' && next.dataType === 'enum') {
    const removed = (prev.enumValues ?? []).filter((v) => !(next.enumValues ?? []).includes(v));
    if (removed.length > 0) words.push(`enum values removed from '${n}': ${removed.join(', ')}`);
  }
  if (referenceChanged) {
    words.push(`property '${n}' now references ${next.referenceType} instead of ${prev.referenceType}`);
  }
  if (uniqueAdded) words.push(`property '${n}' became unique`);
  words.push(...tightened(prev, next, n));
  return words;
}

/** A struct's members' changes, named by their dotted paths. */
function members(
  prev: PropertyDefinition,
  next: PropertyDefinition,
  n: string,
  path: PropertyPath,
  change: PropertyChange,
): string[] {
  const words: string[] = [];
  const old = new Map((prev.properties ?? []).map((m) => [m.name, m]));
  for (const [name] of old) {
    if (!(next.properties ?? []).some((m) => m.name === name)) words.push(`member '${n}.${name}' removed`);
  }
  for (const member of next.properties ?? []) {
    const before = old.get(member.name);
    const at = `${n}.${member.name}`;
    if (before) words.push(...describe(before, member, at, [...path, member], change));
    else {
      if (member.required) words.push(`required member '${at}' added`);
      if (member.unique) change.uniqueAdded.push([...path, member]);
    }
  }
  return words;
}

/** Lower bounds: raising one (or adding it) tightens; upper bounds: lowering one. */
const LOWER = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems'] as const;
const UPPER = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems'] as const;

/** The value constraints `next` narrows (where existing values may fall outside), in words. */
function tightened(prev: PropertyDefinition, next: PropertyDefinition, n: string): string[] {
  const words: string[] = [];
  const bound = (name: string, from: number | undefined, to: number) =>
    words.push(
      from === undefined
        ? `${name} ${to} added to '${n}'`
        : `${name} of '${n}' tightened from ${from} to ${to}`,
    );
  for (const name of LOWER) {
    const to = next[name];
    const from = prev[name];
    if (to !== undefined && (from === undefined || to > from)) bound(name, from, to);
  }
  for (const name of UPPER) {
    const to = next[name];
    const from = prev[name];
    if (to !== undefined && (from === undefined || to < from)) bound(name, from, to);
  }
  for (const name of ['pattern', 'format'] as const) {
    const to = next[name];
    if (to === undefined || to === prev[name]) continue;
    words.push(
      prev[name] === undefined ? `${name} ${to} added to '${n}'` : `${name} of '${n}' changed to ${to}`,
    );
  }
  if (next.uniqueItems && !prev.uniqueItems) words.push(`property '${n}' must not repeat items`);
  return words;
}

/**
 * Scans the documents of a type against its new definition and counts, per risky change, the documents
 * it would make invalid. Structural checks come from `validate`; `unique` and `referenceType` changes
 * need the whole set and a look-up, so they are collected during the scan and settled at the end.
 */
export class BreakingChangeScan {
  private readonly hits = new Map<string, Set<string>>();
  /** Per path that became unique: its values, with the documents holding each. */
  private readonly uniqueValues: { property: string; path: PropertyPath; values: Map<string, string[]> }[] =
    [];
  /** Per retargeted reference path: the ids referenced, with the documents referencing each. */
  private readonly references: { property: string; path: PropertyPath; targets: Map<string, string[]> }[] =
    [];

  constructor(
    private readonly changes: Map<string, PropertyChange>,
    private readonly validate: (properties: DocumentProperties) => Violation[],
  ) {
    for (const [property, change] of changes) {
      for (const path of change.uniqueAdded) this.uniqueValues.push({ property, path, values: new Map() });
      for (const path of change.referenceChanged)
        this.references.push({ property, path, targets: new Map() });
    }
  }

  add(document: EntityRecord<DocumentProperties>): void {
    const broken = new Set<string>();
    for (const violation of this.validate(document.body)) {
      const property = violation.path.split('/')[2];
      if (property) broken.add(property);
    }
    for (const property of broken) this.hit(property, document.id);
    for (const { path, values } of this.uniqueValues) {
      const [found] = valuesAt(path, document.body);
      if (found !== undefined) push(values, JSON.stringify(found.value), document.id);
    }
    for (const { path, targets } of this.references) {
      for (const { value } of valuesAt(path, document.body)) {
        if (typeof value === 'string') push(targets, value, document.id);
      }
    }
  }

  /** Settles the set-wide checks; `typeOf` resolves referenced documents' types on the branch. */
  async finish(typeOf: (ids: string[]) => Promise<Map<string, string | null>>): Promise<BreakingChange[]> {
    for (const { property, values } of this.uniqueValues) {
      for (const ids of values.values()) if (ids.length > 1) ids.forEach((id) => this.hit(property, id));
    }
    for (const { property, path, targets } of this.references) {
      const wanted = leaf(path).referenceType;
      const types = await typeOf([...targets.keys()]);
      for (const [target, ids] of targets) {
        if (types.get(target) !== wanted) ids.forEach((id) => this.hit(property, id));
      }
    }
    return [...this.hits].map(([property, ids]) => ({
      property,
      change: this.changes.get(property)?.description ?? `property '${property}' no longer validates`,
      affectedDocuments: ids.size,
      sampleDocumentIds: [...ids].slice(0, SAMPLE_SIZE),
    }));
  }

  private hit(property: string, documentId: string): void {
    const ids = this.hits.get(property) ?? new Set<string>();
    ids.add(documentId);
    this.hits.set(property, ids);
  }
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
