import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { DOCUMENT_ID_PATTERN } from '@oms/common';
import {
  DocumentProperties,
  DocumentSchemaValidator,
  ObjectTypeDefinition,
  TYPE_NAME_PATTERN,
  PropertyPath,
  containmentAt,
  isInterface,
  pathName,
  referenceValues,
  uniquePaths,
  valuesAt,
  withoutNulls,
} from '@oms/schemas';
import { BranchWriter, EntityRecord } from '@oms/store';
import { prototypeKeyViolations, unstorableJson } from '@oms/http';
import { DocumentIntegrity, REFERRERS_SHOWN, TypeRecord } from '../document-integrity';
import { isPlainObject } from '../merge-patch';
import { BulkItem } from './bulk-items';

export const BULK_OPS = ['create', 'upsert', 'delete'] as const;
export type BulkOp = (typeof BULK_OPS)[number];

/** One error of an import: the item's line, a JSON pointer into the item, and what is wrong. */
export interface BulkError {
  line: number;
  path: string;
  message: string;
}

/** What an import did, line by line (an upsert that changes nothing is `unchanged`). */
export interface BulkCounts {
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
}

/** Items checked and written together: one look-up of each kind per batch, one statement to write it. */
export const BULK_BATCH = 1_000;
/** Errors reported at most; the import stops at the first past this. */
export const MAX_BULK_ERRORS = 1_000;

/** The members of an exported line that describe a version, not a value: accepted and ignored on import. */
const READ_ONLY = new Set(['version', 'createdAt', 'createdBy', 'updatedAt', 'updatedBy']);
const MEMBERS = new Set(['op', 'objectType', 'id', 'properties', ...READ_ONLY]);

interface Item {
  line: number;
  op: BulkOp;
  id: string;
  objectType: string;
  properties: DocumentProperties | null;
}

/** A document's value as the import goes (null: absent). */
type Value = { objectType: string; properties: DocumentProperties } | null;

/**
 * Applies the items of a bulk import inside one write, in order, each checked as if it were a single write
 * made after the ones before it: its type exists and its properties are valid for it, its unique values
 * are free, a create finds no document, a delete finds one. References are checked like deferred
 * constraints, against the import's final state: an item may refer to a document created later in the
 * file, and a delete may come before the deletion of the documents that refer to its target.
 * An item that fails is not applied (later items see the state without it) and the whole write is then
 * rolled back by the caller. Memory holds one batch of items, and the references not yet resolved.
 */
export class BulkImport {
  readonly errors: BulkError[] = [];
  readonly counts: BulkCounts = { created: 0, updated: 0, deleted: 0, unchanged: 0 };
  private readonly types = new Map<string, TypeRecord | null>();
  /** References that did not resolve when their item came: they must by the end of the import. */
  private readonly forward: {
    line: number;
    path: string;
    from: string;
    id: string;
    referenceType: string;
  }[] = [];
  /** Deletes of documents still referred to when their item came: the referrers must be gone by the end. */
  private readonly referenced: { line: number; id: string; objectType: string }[] = [];

  constructor(
    private readonly writer: BranchWriter,
    private readonly branch: string,
    private readonly validator: DocumentSchemaValidator,
    private readonly integrity: DocumentIntegrity,
    private readonly maxDepth: number,
  ) {}

  /** Whether no more errors fit: the import stops reading. */
  get full(): boolean {
    return this.errors.length >= MAX_BULK_ERRORS;
  }

  async run(items: AsyncIterable<BulkItem>): Promise<void> {
    let batch: Item[] = [];
    for await (const raw of items) {
      const item = await this.parse(raw);
      if (item) batch.push(item);
      if (this.full) return;
      if (batch.length >= BULK_BATCH) {
        await this.apply(batch);
        batch = [];
        if (this.full) return;
      }
    }
    await this.apply(batch);
    await this.settleDeferred();
  }

  /**
   * The checks deferred to the end of the import, against its final state (one look-up per batch of
   * them): forward references now resolve (or their referrer is gone or changed), and deleted documents
   * are referred to by nothing (or exist again).
   */
  private async settleDeferred(): Promise<void> {
    for (let at = 0; at < this.forward.length && !this.full; at += BULK_BATCH) {
      const refs = this.forward.slice(at, at + BULK_BATCH);
      const found = await this.writer.getMany<DocumentProperties>('document', [
        ...refs.map((r) => r.id),
        ...refs.map((r) => r.from),
      ]);
      for (const ref of refs) {
        const from = found.get(ref.from);
        const still =
          from &&
          this.types.has(from.objectType!) &&
          this.referencesOf(from.objectType!, from.body).some((r) => r.path === ref.path && r.id === ref.id);
        const target = found.get(ref.id)?.objectType;
        if (still && !(await this.integrity.refersAs(this.writer, target, ref.referenceType)))
          this.fail(
            ref.line,
            ref.path,
            `references ${ref.referenceType} '${ref.id}', which does not exist on branch '${this.branch}'`,
          );
      }
    }
    for (let at = 0; at < this.referenced.length && !this.full; at += BULK_BATCH) {
      const deletes = this.referenced.slice(at, at + BULK_BATCH);
      const back = await this.writer.getMany(
        'document',
        deletes.map((d) => d.id),
      );
      const gone = deletes.filter((d) => !back.has(d.id));
      const referrers = await this.integrity.referenced(this.writer, gone);
      for (const d of gone) {
        const referrer = referrers.get(d.id)?.[0];
        if (referrer)
          this.fail(d.line, '/id', `document '${d.id}' is referenced by document '${referrer.id}'`);
      }
    }
  }

  private fail(line: number, path: string, message: string): void {
    if (!this.full) this.errors.push({ line, path, message });
  }

  /** The item's own shape, and its type: what can be checked without the branch's documents. */
  private async parse(raw: BulkItem): Promise<Item | null> {
    const { line } = raw;
    if ('problem' in raw) {
      this.fail(line, '', raw.problem);
      return null;
    }
    let value: unknown;
    try {
      value = JSON.parse(raw.text);
    } catch {
      this.fail(line, '', 'is not valid JSON');
      return null;
    }
    if (!isPlainObject(value)) {
      this.fail(line, '', 'must be a JSON object');
      return null;
    }
    const unsafe = [
      ...unstorableJson(value, raw.text, this.maxDepth),
      ...prototypeKeyViolations(value, ['properties']),
    ];
    for (const v of unsafe) this.fail(line, v.path, v.message);
    if (unsafe.length > 0) return null;
    const before = this.errors.length;
    for (const key of Object.keys(value)) {
      if (!MEMBERS.has(key)) this.fail(line, `/${key}`, 'is not a member of a bulk item');
    }
    const op = value.op ?? 'upsert';
    if (!BULK_OPS.includes(op as BulkOp)) this.fail(line, '/op', `must be one of ${BULK_OPS.join(', ')}`);
    const { objectType, properties } = value;
    if (typeof objectType !== 'string' || !TYPE_NAME_PATTERN.test(objectType))
      this.fail(line, '/objectType', `must match ${TYPE_NAME_PATTERN.source}`);
    let id = value.id;
    if (id === undefined && op === 'create') id = randomUUID();
    if (typeof id !== 'string' || !DOCUMENT_ID_PATTERN.test(id))
      this.fail(line, '/id', `must match ${DOCUMENT_ID_PATTERN.source}`);
    if (op === 'delete' ? properties !== undefined : !isPlainObject(properties))
      this.fail(line, '/properties', op === 'delete' ? 'is not taken by a delete' : 'must be an object');
    if (this.errors.length > before) return null;
    const type = await this.type(objectType as string);
    if (!type) {
      this.fail(
        line,
        '/objectType',
        `object type '${objectType as string}' does not exist on branch '${this.branch}'`,
      );
      return null;
    }
    if (isInterface(type.body)) {
      this.fail(line, '/objectType', `'${objectType as string}' is an interface: it holds no documents`);
      return null;
    }
    if (op === 'delete')
      return { line, op, id: id as string, objectType: objectType as string, properties: null };
    const clean = withoutNulls(properties as Record<string, unknown>, type.body.properties);
    const invalid = this.validator.validate(type.body, type.version, clean);
    for (const v of invalid) this.fail(line, v.path, v.message);
    if (invalid.length > 0) return null;
    return { line, op: op as BulkOp, id: id as string, objectType: objectType as string, properties: clean };
  }

  private async type(name: string): Promise<TypeRecord | null> {
    if (!this.types.has(name))
      this.types.set(name, await this.writer.get<ObjectTypeDefinition>('type', name));
    return this.types.get(name)!;
  }

  /**
   * Checks a batch against the branch (one look-up of each kind for the whole batch) and the batch's own
   * earlier items (tracked in memory), then writes what passed in one statement.
   */
  private async apply(items: Item[]): Promise<void> {
    if (items.length === 0) return;
    const state = new BatchState(
      await this.writer.getMany<DocumentProperties>('document', [
        ...items.map((i) => i.id),
        ...items.flatMap((i) => this.references(i).map((r) => r.id)),
      ]),
    );
    await this.loadUniqueHolders(items, state);
    await this.loadReferrers(items, state);
    for (const item of items) this.applyOne(item, state);
    await this.writer.writeMany(
      'document',
      [...state.pending].map(([id, value]) => ({
        id,
        value: value && { objectType: value.objectType, body: value.properties },
      })),
    );
  }

  private references(item: Item) {
    return item.properties ? this.referencesOf(item.objectType, item.properties) : [];
  }

  private referencesOf(objectType: string, properties: DocumentProperties) {
    return referenceValues(this.types.get(objectType)!.body, properties);
  }

  private applyOne(item: Item, state: BatchState): void {
    const { line, id, op } = item;
    const current = state.value(id);
    if (op === 'create' && current) return this.fail(line, '/id', `document '${id}' already exists`);
    if (op === 'delete' && !current) return this.fail(line, '/id', `document '${id}' does not exist`);
    if (current && current.objectType !== item.objectType) {
      return this.fail(line, '/objectType', `must match the document's type (${current.objectType})`);
    }
    if (op === 'delete') {
      // Still referred to: the referrers may go later in the import (checked at its end).
      if (this.referrerOf(id, state)) this.referenced.push({ line, id, objectType: item.objectType });
      state.set(id, null);
      this.counts.deleted += 1;
      return;
    }
    const next = { objectType: item.objectType, properties: item.properties! };
    if (current && isDeepStrictEqual(current.properties, next.properties)) {
      this.counts.unchanged += 1;
      return;
    }
    const before = this.errors.length;
    for (const { pointer, key, value } of this.uniqueValues(item.objectType, next.properties)) {
      const other = state.holderOf(key, id);
      if (other)
        this.fail(
          line,
          pointer,
          `must be unique: ${JSON.stringify(value)} is already used by document '${other}'`,
        );
    }
    if (this.errors.length > before) return;
    for (const ref of this.references(item)) {
      // Not there yet: it may come later in the import (checked at its end, for an item that applied).
      if (state.value(ref.id)?.objectType !== ref.referenceType)
        this.forward.push({ line, from: id, ...ref });
    }
    state.set(id, next);
    state.claim(this.uniqueKeys(current), this.uniqueKeys(next), id);
    if (current) this.counts.updated += 1;
    else this.counts.created += 1;
  }

  /**
   * A document that refers to `id` as the batch has left it: one the branch holds (and the batch has not
   * rewritten), or one the batch wrote.
   */
  private referrerOf(id: string, state: BatchState): string | undefined {
    const stored = state.storedReferrers(id);
    // Only a sample of them is known: past it, others the batch did not rewrite may remain.
    if (stored.length >= REFERRERS_SHOWN) return stored[0];
    const untouched = stored.find((r) => r !== id && !state.pending.has(r));
    if (untouched) return untouched;
    for (const [referrer, value] of state.pending) {
      if (!value || referrer === id) continue;
      const type = this.types.get(value.objectType)!.body;
      if (referenceValues(type, value.properties).some((ref) => ref.id === id)) return referrer;
    }
    return undefined;
  }

  /** The unique values of a document, each with a key naming type, property and value. */
  private uniqueValues(objectType: string, properties: DocumentProperties) {
    const type = this.types.get(objectType)!.body;
    return uniquePaths(type).flatMap((path) => {
      const [found] = valuesAt(path, properties);
      if (!found) return [];
      const name = pathName(path);
      return [
        {
          name,
          path,
          pointer: found.pointer,
          value: found.value,
          key: uniqueKey(objectType, name, found.value),
        },
      ];
    });
  }

  private uniqueKeys(value: Value): string[] {
    return value ? this.uniqueValues(value.objectType, value.properties).map((u) => u.key) : [];
  }

  /** Who holds each unique value the batch sets, on the branch: one look-up per type and property. */
  private async loadUniqueHolders(items: Item[], state: BatchState): Promise<void> {
    const probes = new Map<
      string,
      { type: string; name: string; path: PropertyPath; value: unknown; key: string }
    >();
    for (const item of items) {
      if (!item.properties) continue;
      for (const u of this.uniqueValues(item.objectType, item.properties))
        probes.set(u.key, { type: item.objectType, ...u });
    }
    const groups = new Map<string, { type: string; name: string; path: PropertyPath; values: unknown[] }>();
    for (const p of probes.values()) {
      const group = groups.get(`${p.type}\u0000${p.name}`) ?? {
        type: p.type,
        name: p.name,
        path: p.path,
        values: [],
      };
      group.values.push(p.value);
      groups.set(`${p.type}\u0000${p.name}`, group);
    }
    for (const { type, name, path, values } of groups.values()) {
      const holders = await this.writer.containing<DocumentProperties>(
        'document',
        type,
        values.map((value) => containmentAt(path, value)),
      );
      for (const holder of holders) {
        const key = uniqueKey(type, name, valuesAt(path, holder.body)[0]?.value);
        if (probes.has(key)) state.claim([], [key], holder.id);
      }
    }
  }

  /** Which documents on the branch refer to the ones the batch deletes (a sample of each). */
  private async loadReferrers(items: Item[], state: BatchState): Promise<void> {
    const targets = items
      .filter((i) => i.op === 'delete')
      .map((i) => ({ id: i.id, objectType: i.objectType }));
    if (targets.length === 0) return;
    const found = await this.integrity.referenced(this.writer, targets);
    for (const [target, referrers] of found)
      state.linkStored(
        target,
        referrers.map((r) => r.id),
      );
  }
}

/** Names one unique value: its type, its property and the value (as JSON). */
const uniqueKey = (type: string, property: string, value: unknown) =>
  `${type}\u0000${property}\u0000${JSON.stringify(value)}`;

/**
 * The documents a batch touches, as the batch goes: what the branch held (loaded once), what earlier
 * items of the batch wrote (`pending`), who holds each unique value and who refers to each document.
 */
class BatchState {
  readonly pending = new Map<string, Value>();
  private readonly holders = new Map<string, Set<string>>();
  private readonly referrers = new Map<string, string[]>();

  constructor(private readonly stored: Map<string, EntityRecord<DocumentProperties>>) {}

  value(id: string): Value {
    if (this.pending.has(id)) return this.pending.get(id)!;
    const record = this.stored.get(id);
    return record ? { objectType: record.objectType!, properties: record.body } : null;
  }

  set(id: string, next: Value): void {
    if (next) return void this.pending.set(id, next);
    for (const set of this.holders.values()) set.delete(id); // a deleted document holds nothing
    // Created by this batch and deleted again: nothing to write.
    if (this.stored.has(id)) this.pending.set(id, null);
    else this.pending.delete(id);
  }

  /** Moves `id` from the unique keys it held to the ones it holds now. */
  claim(released: string[], taken: string[], id: string): void {
    for (const key of released) this.holders.get(key)?.delete(id);
    for (const key of taken) this.holders.set(key, (this.holders.get(key) ?? new Set()).add(id));
  }

  /** Another document that holds the unique key, if any. */
  holderOf(key: string, id: string): string | undefined {
    for (const holder of this.holders.get(key) ?? []) if (holder !== id) return holder;
    return undefined;
  }

  linkStored(target: string, referrers: string[]): void {
    this.referrers.set(target, referrers);
  }

  /** Documents on the branch (before the batch) that refer to `target`: a sample. */
  storedReferrers(target: string): string[] {
    return this.referrers.get(target) ?? [];
  }
}
