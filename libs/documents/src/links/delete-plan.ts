import { StateConflict } from '@oms/common';
import {
  DocumentProperties,
  ObjectTypeDefinition,
  PropertyDefinition,
  containmentAt,
  leaf,
  pathName,
  referencePathsTo,
  targetNames,
} from '@oms/schemas';
import { BranchReader, EntityRecord } from '@oms/store';

type DocumentRecord = EntityRecord<DocumentProperties>;
type TypeRecord = EntityRecord<ObjectTypeDefinition>;

/** A document a delete touches besides its target. */
export interface TouchedDocument {
  id: string;
  objectType: string;
}

/** What deleting a document does, in the same commit: the documents it deletes (first, itself) and updates. */
export interface DeletePlan {
  deleted: TouchedDocument[];
  /** Documents whose references to deleted documents are removed (nullify), with their new properties. */
  updated: (TouchedDocument & { properties: DocumentProperties })[];
}

/** A referrer that forbids the delete (restrict), unless the delete removes it too. */
interface Restriction {
  id: string;
  objectType: string;
  property: string;
}

const PAGE = 500;

/** The properties without the references of `property` to `target` (a single one: absent; an array: filtered). */
function nullified(
  property: PropertyDefinition,
  body: DocumentProperties,
  target: string,
): DocumentProperties {
  const next = { ...body };
  const value = next[property.name];
  if (property.array && Array.isArray(value)) next[property.name] = value.filter((v) => v !== target);
  else delete next[property.name];
  return next;
}

/** Whether any reference property of any type into `objectType` deletes or nullifies on delete. */
export function hasActiveLinks(types: TypeRecord[], objectType: string): boolean {
  const names = targetNames(
    types.map((t) => t.body),
    objectType,
  );
  return types.some((t) =>
    referencePathsTo(t.body, names).some(
      (path) => path.length === 1 && (path[0]!.onDelete === 'cascade' || path[0]!.onDelete === 'nullify'),
    ),
  );
}

/**
 * Follows the links into a document being deleted, transitively: `cascade` referrers are deleted too (and
 * their own referrers followed), `nullify` referrers lose the reference, `restrict` referrers refuse the
 * delete unless it removes them as well. More than `max` documents reached (touched, or forbidding it):
 * refused before anything is written (409). Each referrer is found by the body index, a page at a time.
 */
export async function planDelete(
  reader: BranchReader,
  types: TypeRecord[],
  target: DocumentRecord,
  max: number,
): Promise<{ plan: DeletePlan; restrictions: Restriction[] }> {
  const deleted = new Map<string, string>([[target.id, target.objectType ?? '']]);
  const updated = new Map<string, TouchedDocument & { properties: DocumentProperties }>();
  const restrictions: Restriction[] = [];
  const queue: TouchedDocument[] = [{ id: target.id, objectType: target.objectType ?? '' }];
  const definitions = types.map((t) => t.body);
  for (let next = queue.shift(); next; next = queue.shift()) {
    const gone = next;
    for (const type of types) {
      for (const path of referencePathsTo(type.body, targetNames(definitions, gone.objectType))) {
        // A struct member's reference is always restrict: only the type's own may cascade or nullify.
        const property = leaf(path);
        const rule = path.length === 1 ? (property.onDelete ?? 'restrict') : 'restrict';
        for (let after: { id: string } | undefined, more = true; more;) {
          const page = await reader.list<DocumentProperties>('document', {
            objectType: type.id,
            contains: containmentAt(path, gone.id),
            sort: 'id',
            after,
            limit: PAGE,
          });
          more = page.length === PAGE;
          after = page.length > 0 ? { id: page[page.length - 1]!.id } : undefined;
          for (const holder of page) {
            if (deleted.has(holder.id)) continue;
            if (rule === 'restrict') {
              restrictions.push({ id: holder.id, objectType: type.id, property: pathName(path) });
            } else if (rule === 'cascade') {
              deleted.set(holder.id, type.id);
              updated.delete(holder.id);
              queue.push({ id: holder.id, objectType: type.id });
            } else {
              const properties = nullified(
                property,
                updated.get(holder.id)?.properties ?? holder.body,
                gone.id,
              );
              updated.set(holder.id, { id: holder.id, objectType: type.id, properties });
            }
            // Referrers that forbid it count too: the walk is bounded whatever the links hold.
            if (deleted.size - 1 + updated.size + restrictions.length > max) {
              throw new StateConflict(
                'Delete reaches too far',
                `Deleting document '${target.id}' would reach more than ${max} other documents ` +
                  '(MAX_CASCADE) through its links.',
                { maxCascade: max },
              );
            }
          }
        }
      }
    }
  }
  return {
    plan: {
      deleted: [...deleted].map(([id, objectType]) => ({ id, objectType })),
      updated: [...updated.values()].filter((u) => !deleted.has(u.id)),
    },
    restrictions: restrictions.filter((r) => !deleted.has(r.id)),
  };
}
