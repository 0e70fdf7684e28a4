import { Injectable } from '@nestjs/common';
import { StateConflict, UniqueViolation, ValidationFailed, Violation, inBody, own } from '@oms/common';
import {
  DocumentProperties,
  DocumentSchemaValidator,
  ObjectTypeDefinition,
  TYPE_NAME_PATTERN,
  effective,
  referenceValues,
  referencesTo,
  withoutNulls,
} from '@oms/schemas';
import { BranchReader, BranchWriter, EntityRecord } from '@oms/store';
import { isPlainObject } from './merge-patch';

export type DocumentRecord = EntityRecord<DocumentProperties>;
export type TypeRecord = EntityRecord<ObjectTypeDefinition>;

const REFERRERS_SHOWN = 20;

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
    const properties = isPlainObject(raw) ? withoutNulls(raw) : undefined;
    if (type && properties) {
      violations.push(...this.validator.validate(type.body, type.version, properties));
      const references = referenceValues(type.body, properties);
      const found = await reader.getMany(
        'document',
        references.map((r) => r.id),
      );
      for (const ref of references) {
        if (found.get(ref.id)?.objectType !== ref.referenceType) {
          violations.push({
            path: ref.path,
            message: `references ${ref.referenceType} '${ref.id}', which does not exist on branch '${branch}'`,
          });
        }
      }
    }
    if (violations.length > 0 || !type || !properties) throw new ValidationFailed(inBody(violations));
    return { type, properties };
  }

  /** Runs inside the write, under the branch lock: no concurrent writer can slip a duplicate in. */
  async checkUnique(
    w: BranchWriter,
    type: TypeRecord,
    id: string,
    properties: DocumentProperties,
  ): Promise<void> {
    const violations: Violation[] = [];
    for (const property of type.body.properties.map((p) => effective(type.body, p))) {
      const value = own(properties, property.name);
      if (!property.unique || value === undefined) continue;
      const holders = await w.list('document', {
        objectType: type.id,
        contains: { [property.name]: value },
        limit: 2,
      });
      const other = holders.find((h) => h.id !== id);
      if (other) {
        violations.push({
          path: `/properties/${property.name}`,
          message: `must be unique: ${JSON.stringify(value)} is already used by document '${other.id}'`,
        });
      }
    }
    if (violations.length > 0) throw new UniqueViolation(inBody(violations));
  }

  /** A document others reference cannot go: 409 with how many references there are and the first few. */
  async checkUnreferenced(reader: BranchReader, target: DocumentRecord): Promise<void> {
    const referrers = await this.referrers(reader, target);
    if (referrers.total === 0) return;
    const more = referrers.total - referrers.sample.length;
    throw new StateConflict(
      'Document is referenced',
      `Document '${target.id}' is referenced by ${referrers.total} document(s): ` +
        referrers.sample.map((r) => `'${r.id}'`).join(', ') +
        (more > 0 ? ` and ${more} more.` : '.'),
      { referencedBy: referrers },
    );
  }

  /**
   * The references (from documents other than itself) that point at `target`: how many, one per referring
   * document and property, and the first few of them.
   */
  private async referrers(reader: BranchReader, target: DocumentRecord): Promise<Referrers> {
    const types = await reader.list<ObjectTypeDefinition>('type', { limit: 10_000 });
    const referrers: Referrers = { total: 0, sample: [] };
    for (const type of types) {
      for (const property of referencesTo(type.body, target.objectType!)) {
        const filter = {
          objectType: type.id,
          contains: { [property.name]: property.array ? [target.id] : target.id },
        };
        const count = await reader.count('document', filter);
        if (count === 0) continue;
        const hits = await reader.list('document', { ...filter, limit: REFERRERS_SHOWN + 1 });
        const self = hits.some((hit) => hit.id === target.id);
        referrers.total += count - (self ? 1 : 0);
        for (const hit of hits) {
          if (hit.id !== target.id && referrers.sample.length < REFERRERS_SHOWN)
            referrers.sample.push({ id: hit.id, objectType: type.id, property: property.name });
        }
      }
    }
    return referrers;
  }
}
