import { Injectable } from '@nestjs/common';
import { StateConflict, UniqueViolation, ValidationFailed, Violation, inBody } from '@oms/common';
import {
  DocumentProperties,
  DocumentSchemaValidator,
  ObjectTypeDefinition,
  TYPE_NAME_PATTERN,
  containmentAt,
  leaf,
  propertyPaths,
  referencePathsTo,
  referenceValues,
  uniquePaths,
  pathName,
  isInterface,
  targetNames,
  valuesAt,
  withoutNulls,
  readTypes,
} from '@oms/schemas';
import { BranchReader, BranchWriter, EntityRecord } from '@oms/store';
import { isPlainObject } from './merge-patch';

export type DocumentRecord = EntityRecord<DocumentProperties>;
export type TypeRecord = EntityRecord<ObjectTypeDefinition>;

/** How many referrers of a document are named (in a 409, and by `referenced`). */
export const REFERRERS_SHOWN = 20;

/** A document to check: its id and its properties (without nulls). */
export interface CheckedDocument {
  id: string;
  properties: DocumentProperties;
}

/** What refers to a document: a total, and a sample of at most REFERRERS_SHOWN. */
interface Referrers {
  total: number;
  sample: { id: string; objectType: string; property: string }[];
}

/**
 * The integrity of documents on a branch, checked inside a write (under the branch lock) or a read: their
 * type exists, their properties are valid for it, their references resolve, unique values are unique, and
 * a referenced document is not removed.
 */
@Injectable()
export class DocumentIntegrity {
  constructor(private readonly validator: DocumentSchemaValidator) {}

  /** The named type on the branch, or null with a violation (a malformed name is already reported). */
  async findType(
    reader: BranchReader,
    branch: string,
    name: unknown,
    violations: Violation[],
    path = '/objectType',
  ): Promise<TypeRecord | null> {
    if (typeof name !== 'string' || !TYPE_NAME_PATTERN.test(name)) return null;
    const type = await reader.get<ObjectTypeDefinition>('type', name);
    if (!type)
      violations.push({ path, message: `object type '${name}' does not exist on branch '${branch}'` });
    return type;
  }

  /**
   * The properties without nulls, once every violation is known: the body's own, the type's (Ajv) and
   * dangling references — all in one 400.
   */
  async validated(
    reader: BranchReader,
    branch: string,
    type: TypeRecord | null,
    raw: unknown,
    violations: Violation[],
  ): Promise<{ type: TypeRecord; properties: DocumentProperties }> {
    const properties = isPlainObject(raw) ? withoutNulls(raw, type?.body.properties ?? []) : undefined;
    if (type && isInterface(type.body))
      violations.push({
        path: '/objectType',
        message: `'${type.id}' is an interface: it holds no documents`,
      });
    if (type && properties) {
      const problems = await this.problems(reader, branch, type, [{ id: '', properties }]);
      violations.push(...(problems.get('') ?? []));
    }
    if (violations.length > 0 || !type || !properties) throw new ValidationFailed(inBody(violations));
    return { type, properties };
  }

  /**
   * What is wrong with each of these documents of one type (by id; none: valid): the type's rules (Ajv) and
   * references to documents that do not exist — one look-up for all their references.
   */
  async problems(
    reader: BranchReader,
    branch: string,
    type: TypeRecord,
    documents: CheckedDocument[],
  ): Promise<Map<string, Violation[]>> {
    const references = documents.map((d) => referenceValues(type.body, d.properties));
    const found = await reader.getMany(
      'document',
      references.flat().map((r) => r.id),
    );
    const problems = new Map<string, Violation[]>();
    // A reference to an interface takes a document of any type implementing it.
    const accepted = new Set<string>();
    for (const ref of references.flat()) {
      const target = found.get(ref.id)?.objectType;
      if (target && target !== ref.referenceType && (await this.refersAs(reader, target, ref.referenceType)))
        accepted.add(`${target}\u0000${ref.referenceType}`);
    }
    documents.forEach((document, i) => {
      const violations = [...this.validator.validate(type.body, type.version, document.properties)];
      for (const ref of references[i] ?? []) {
        const target = found.get(ref.id)?.objectType;
        if (target !== ref.referenceType && !accepted.has(`${target}\u0000${ref.referenceType}`)) {
          violations.push({
            path: ref.path,
            message: `references ${ref.referenceType} '${ref.id}', which does not exist on branch '${branch}'`,
          });
        }
      }
      if (violations.length > 0) problems.set(document.id, violations);
    });
    return problems;
  }

  /**
   * Whether a document of `objectType` may be named by a reference to `referenceType`: the same type, or one
   * implementing that interface (its type read once per write, through the write's type memo).
   */
  async refersAs(
    reader: BranchReader,
    objectType: string | null | undefined,
    referenceType: string,
  ): Promise<boolean> {
    if (!objectType) return false;
    if (objectType === referenceType) return true;
    const type = await reader.get<ObjectTypeDefinition>('type', objectType);
    return type?.body.implements?.includes(referenceType) ?? false;
  }

  /** Runs inside the write, under the branch lock: no concurrent writer can slip a duplicate in. */
  async checkUnique(
    w: BranchWriter,
    type: TypeRecord,
    id: string,
    properties: DocumentProperties,
  ): Promise<void> {
    const clashes = await this.uniqueClashes(w, type, [{ id, properties }]);
    const violations = clashes.get(id);
    if (violations) throw new UniqueViolation(inBody(violations));
  }

  /**
   * The unique values each of these documents (of one type) shares with another document on the reader's
   * branch, by id: one look-up per value.
   */
  async uniqueClashes(
    reader: BranchReader,
    type: TypeRecord,
    documents: CheckedDocument[],
  ): Promise<Map<string, Violation[]>> {
    const clashes = new Map<string, Violation[]>();
    for (const path of uniquePaths(type.body)) {
      // Unique paths never go through an array: one value per document at most.
      const valueOf = (body: DocumentProperties) => valuesAt(path, body)[0];
      const valued = documents.flatMap((d) => {
        const found = valueOf(d.properties);
        return found === undefined ? [] : [{ id: d.id, ...found, key: JSON.stringify(found.value) }];
      });
      const probes = [...new Map(valued.map((v) => [v.key, containmentAt(path, v.value)])).values()];
      const holders = new Map<string, string[]>();
      for (const holder of await reader.containing('document', type.id, probes)) {
        const key = JSON.stringify(valueOf(holder.body as DocumentProperties)?.value);
        holders.set(key, [...(holders.get(key) ?? []), holder.id]);
      }
      for (const { id, value, key, pointer } of valued) {
        const other = holders.get(key)?.find((holder) => holder !== id);
        if (!other) continue;
        clashes.set(id, [
          ...(clashes.get(id) ?? []),
          {
            path: pointer,
            message: `must be unique: ${JSON.stringify(value)} is already used by document '${other}'`,
          },
        ]);
      }
    }
    return clashes;
  }

  /**
   * Which of these documents others reference (by id, the first few referrers of each): one look-up per
   * document and referring property. Documents among them referring to each other count.
   */
  async referenced(
    reader: BranchReader,
    targets: { id: string; objectType: string | null }[],
  ): Promise<Map<string, Referrers['sample']>> {
    const found = new Map<string, Referrers['sample']>();
    const types = await readTypes(reader);
    const definitions = types.map((t) => t.body);
    for (const type of types) {
      for (const path of propertyPaths(type.body.properties)) {
        const property = leaf(path);
        const pointedAt = targets.filter(
          (t) =>
            property.dataType === 'reference' &&
            property.referenceType !== undefined &&
            targetNames(definitions, t.objectType ?? '').includes(property.referenceType),
        );
        if (pointedAt.length === 0) continue;
        const probes = pointedAt.map((t) => containmentAt(path, t.id));
        for (const holder of await reader.containing('document', type.id, probes)) {
          const values = valuesAt(path, holder.body as DocumentProperties).map((v) => v.value);
          for (const target of pointedAt) {
            const sample = found.get(target.id) ?? [];
            if (!values.includes(target.id) || holder.id === target.id || sample.length >= REFERRERS_SHOWN)
              continue;
            found.set(target.id, [
              ...sample,
              { id: holder.id, objectType: type.id, property: pathName(path) },
            ]);
          }
        }
      }
    }
    return found;
  }

  /** A document others reference cannot go: 409 with how many references there are and the first few. */
  async checkUnreferenced(reader: BranchReader, target: DocumentRecord): Promise<void> {
    const referrers = await this.referrers(reader, target);
    if (referrers.total > 0) throw referencedConflict(target, referrers);
  }

  /**
   * The documents a delete would update (their references to deleted documents removed), checked against
   * their types like any write: a nullified reference must not leave a document invalid (required, minItems).
   */
  async checkNullified(
    reader: BranchReader,
    branch: string,
    types: TypeRecord[],
    target: DocumentRecord,
    updated: { id: string; objectType: string; properties: DocumentProperties }[],
  ): Promise<void> {
    const violations: { documentId: string; path: string; message: string }[] = [];
    for (const type of types) {
      const documents = updated.filter((u) => u.objectType === type.id);
      if (documents.length === 0) continue;
      for (const [documentId, problems] of await this.problems(reader, branch, type, documents))
        violations.push(...problems.map((v) => ({ documentId, ...v })));
    }
    if (violations.length === 0) return;
    throw new StateConflict(
      'Delete would leave documents invalid',
      `Deleting document '${target.id}' would remove references that ${new Set(violations.map((v) => v.documentId)).size} ` +
        'document(s) need (nullify): ' +
        violations
          .slice(0, REFERRERS_SHOWN)
          .map((v) => `'${v.documentId}' ${v.path} ${v.message}`)
          .join('; ') +
        '.',
      { violations: violations.slice(0, 1000) },
    );
  }

  /**
   * The references (from documents other than itself) that point at `target`: how many, one per referring
   * document and property, and the first few of them.
   */
  private async referrers(reader: BranchReader, target: DocumentRecord): Promise<Referrers> {
    const types = await readTypes(reader);
    const referrers: Referrers = { total: 0, sample: [] };
    for (const type of types) {
      for (const path of referencePathsTo(
        type.body,
        targetNames(
          types.map((t) => t.body),
          target.objectType!,
        ),
      )) {
        const filter = { objectType: type.id, contains: containmentAt(path, target.id) };
        const count = await reader.count('document', filter);
        if (count === 0) continue;
        const hits = await reader.list('document', { ...filter, limit: REFERRERS_SHOWN + 1 });
        const self = hits.some((hit) => hit.id === target.id);
        referrers.total += count - (self ? 1 : 0);
        for (const hit of hits) {
          if (hit.id !== target.id && referrers.sample.length < REFERRERS_SHOWN)
            referrers.sample.push({ id: hit.id, objectType: type.id, property: pathName(path) });
        }
      }
    }
    return referrers;
  }
}

/** 409 for a document others reference: how many references there are and the first few. */
export function referencedConflict(target: { id: string }, referrers: Referrers): StateConflict {
  const more = referrers.total - referrers.sample.length;
  return new StateConflict(
    'Document is referenced',
    `Document '${target.id}' is referenced by ${referrers.total} document(s): ` +
      referrers.sample.map((r) => `'${r.id}'`).join(', ') +
      (more > 0 ? ` and ${more} more.` : '.'),
    { referencedBy: referrers },
  );
}
