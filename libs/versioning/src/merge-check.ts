import { Injectable } from '@nestjs/common';
import { SchemaBreakingChange, StateConflict, UniqueViolation, ValidationFailed } from '@oms/common';
import { DocumentIntegrity } from '@oms/documents';
import { DocumentProperties, ObjectTypeDefinition, ObjectTypesService } from '@oms/schemas';
import { BranchWriter, EntityRecord } from '@oms/store';
import { MergedEntity } from './three-way';

export type ViolationKind = 'unique' | 'required' | 'reference' | 'enum' | 'type' | 'breaking-schema';

export interface MergeViolation {
  kind: ViolationKind;
  objectType: string | null;
  documentId: string | null;
  path: string;
  detail: string;
}

/** A validation message's rule (the validator words each rule one way). */
function kindOf(message: string): ViolationKind {
  if (message === 'is required' || message.startsWith('is required')) return 'required';
  if (message.startsWith('must be one of')) return 'enum';
  if (message.startsWith('references ') || message.includes('does not exist')) return 'reference';
  return 'type';
}

const BODY = /^\/body/;

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
    for (const entity of merged) {
      if (entity.kind === 'document') out.push(...(await this.checkDocument(w, branch, entity)));
    }
    return out;
  }

  private async checkType(w: BranchWriter, entity: MergedEntity): Promise<MergeViolation[]> {
    const before = entity.ours?.body as ObjectTypeDefinition | undefined;
    const after = entity.value?.body as ObjectTypeDefinition | undefined;
    const violation = (detail: string, path = ''): MergeViolation => ({
      kind: 'breaking-schema',
      objectType: entity.id,
      documentId: null,
      path,
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

  private async checkDocument(
    w: BranchWriter,
    branch: string,
    entity: MergedEntity,
  ): Promise<MergeViolation[]> {
    const objectType = entity.value?.objectType ?? entity.ours?.objectType ?? null;
    const at = (kind: ViolationKind, path: string, detail: string): MergeViolation => ({
      kind,
      objectType,
      documentId: entity.id,
      path: path.replace(BODY, ''),
      detail,
    });
    if (!entity.value) {
      if (!entity.ours) return [];
      try {
        await this.integrity.checkUnreferenced(w, entity.ours as EntityRecord<DocumentProperties>);
        return [];
      } catch (error) {
        if (!(error instanceof StateConflict)) throw error;
        return [at('reference', '', error.message)];
      }
    }
    const violations: { path: string; message: string }[] = [];
    const type = await this.integrity.findType(w, branch, objectType, violations);
    try {
      const valid = await this.integrity.validated(w, branch, type, entity.value.body, violations);
      await this.integrity.checkUnique(w, valid.type, entity.id, valid.properties);
      return [];
    } catch (error) {
      if (error instanceof UniqueViolation) return error.errors.map((e) => at('unique', e.path, e.message));
      if (error instanceof ValidationFailed)
        return error.errors.map((e) => at(kindOf(e.message), e.path, e.message));
      throw error;
    }
  }
}
