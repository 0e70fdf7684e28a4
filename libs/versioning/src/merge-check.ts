import { Injectable } from '@nestjs/common';
import { SchemaBreakingChange } from '@oms/common';
import { CheckedDocument, DocumentIntegrity } from '@oms/documents';
import { DocumentProperties, ObjectTypeDefinition, ObjectTypesService, withoutNulls } from '@oms/schemas';
import { BranchWriter } from '@oms/store';
import { MergedEntity } from './three-way';

export type ViolationKind =
  'unique' | 'required' | 'reference' | 'enum' | 'constraint' | 'type' | 'breaking-schema';

/** How the validator words a value constraint's violation (bounds, lengths, counts, patterns, formats). */
const CONSTRAINT_MESSAGE =
  /^must (be [<>]=? |have (at least|at most) |match the pattern |not repeat an item|be an? (email address|absolute URI|UUID|hostname)$)/;

export interface MergeViolation {
  kind: ViolationKind;
  objectType: string | null;
  documentId: string | null;
  path: string;
  detail: string;
}

/** A validation message's rule (the validator words each rule one way). */
function kindOf(message: string): ViolationKind {
  if (message.startsWith('is required')) return 'required';
  if (message.startsWith('must be one of')) return 'enum';
  if (CONSTRAINT_MESSAGE.test(message)) return 'constraint';
  if (message.startsWith('references ') || message.includes('does not exist')) return 'reference';
  return 'type';
}

/**
 * Checks the merged state with the rules of a normal write, on the merge's writer (its reads see the
 * merged state): each document the merge changes is valid for its merged type, its references resolve
 * and its unique values are unique; a document it removes is not referenced; a type it changes or
 * removes breaks no document. Every broken rule is listed, none stops the check.
 */
@Injectable()
export class MergeCheck {
  constructor(
    private readonly integrity: DocumentIntegrity,
    private readonly types: ObjectTypesService,
  ) {}

  async violations(w: BranchWriter, branch: string, merged: MergedEntity[]): Promise<MergeViolation[]> {
    const out: MergeViolation[] = [];
    for (const entity of merged) {
      if (entity.kind === 'type') out.push(...(await this.checkType(w, entity)));
    }
    const documents = merged.filter((m) => m.kind === 'document');
    out.push(
      ...(await this.checkDocuments(
        w,
        branch,
        documents.filter((d) => d.value),
      )),
    );
    out.push(
      ...(await this.checkRemoved(
        w,
        documents.filter((d) => !d.value && d.ours),
      )),
    );
    return out;
  }

  private async checkType(w: BranchWriter, entity: MergedEntity): Promise<MergeViolation[]> {
    const before = entity.ours?.body as ObjectTypeDefinition | undefined;
    const after = entity.value?.body as ObjectTypeDefinition | undefined;
    const violation = (detail: string): MergeViolation => ({
      kind: 'breaking-schema',
      objectType: entity.id,
      documentId: null,
      path: '',
      detail,
    });
    if (!before) return [];
    if (!after) {
      const left = await w.count('document', { objectType: entity.id });
      return left > 0
        ? [violation(`object type '${entity.id}' is removed but ${left} document(s) remain`)]
        : [];
    }
    try {
      await this.types.refuseBreakingChanges(w, before, after);
      return [];
    } catch (error) {
      if (!(error instanceof SchemaBreakingChange)) throw error;
      return [violation(error.message)];
    }
  }

  /** Documents the merge writes, by type: valid for the merged type, references resolved, values unique. */
  private async checkDocuments(
    w: BranchWriter,
    branch: string,
    written: MergedEntity[],
  ): Promise<MergeViolation[]> {
    const out: MergeViolation[] = [];
    const byType = new Map<string, CheckedDocument[]>();
    for (const entity of written) {
      const objectType = entity.value?.objectType ?? '';
      // Stored bodies: their nulls were dropped when they were written.
      const properties = withoutNulls((entity.value?.body ?? {}) as DocumentProperties, []);
      byType.set(objectType, [...(byType.get(objectType) ?? []), { id: entity.id, properties }]);
    }
    const types = await w.getMany<ObjectTypeDefinition>('type', [...byType.keys()]);
    for (const [objectType, documents] of byType) {
      const at =
        (id: string) =>
        (kind: ViolationKind, path: string, detail: string): MergeViolation => ({
          kind,
          objectType,
          documentId: id,
          path,
          detail,
        });
      const type = types.get(objectType);
      if (!type) {
        out.push(
          ...documents.map((d) =>
            at(d.id)(
              'type',
              '/objectType',
              `object type '${objectType}' does not exist on branch '${branch}'`,
            ),
          ),
        );
        continue;
      }
      const problems = await this.integrity.problems(w, branch, type, documents);
      for (const [id, violations] of problems)
        out.push(...violations.map((v) => at(id)(kindOf(v.message), v.path, v.message)));
      const clashes = await this.integrity.uniqueClashes(
        w,
        type,
        documents.filter((d) => !problems.has(d.id)),
      );
      for (const [id, violations] of clashes)
        out.push(...violations.map((v) => at(id)('unique', v.path, v.message)));
    }
    return out;
  }

  /** Documents the merge deletes that documents still present refer to. */
  private async checkRemoved(w: BranchWriter, removed: MergedEntity[]): Promise<MergeViolation[]> {
    const targets = removed.map((r) => ({ id: r.id, objectType: r.objectType }));
    const referenced = await this.integrity.referenced(w, targets);
    return [...referenced].map(([id, sample]) => ({
      kind: 'reference',
      objectType: removed.find((r) => r.id === id)?.objectType ?? null,
      documentId: id,
      path: '',
      detail: `Document '${id}' is removed but referenced by ${sample.map((r) => `${r.objectType} '${r.id}' (${r.property})`).join(', ')}.`,
    }));
  }
}
