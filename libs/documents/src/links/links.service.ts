import { Inject, Injectable } from '@nestjs/common';
import {
  DOCUMENT_ID_PATTERN,
  NotFound,
  TYPE_NAME_PATTERN,
  ValidationFailed,
  queryPointer,
} from '@oms/common';
import { decodeCursor, encodeCursor } from '@oms/http';
import {
  DocumentProperties,
  PropertyDefinition,
  containmentAt,
  inverseLinks,
  readTypes,
  valuesAt,
} from '@oms/schemas';
import { BranchReader, MAIN_BRANCH, VERSIONED_STORE, VersionedStore } from '@oms/store';
import { DocumentListResponseDto, DocumentPageQueryDto, toDocumentResponse } from '../document.dto';

/** Where the next page of a link starts: a position in a forward link's values, or the last referrer's id. */
type LinkCursor = { link: string; index: number } | { link: string; after: string };

const isLinkCursor = (v: unknown): v is LinkCursor => {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as { link?: unknown; index?: unknown; after?: unknown };
  return (
    typeof c.link === 'string' &&
    TYPE_NAME_PATTERN.test(c.link) &&
    ((Number.isSafeInteger(c.index) && (c.index as number) > 0 && c.after === undefined) ||
      (typeof c.after === 'string' && DOCUMENT_ID_PATTERN.test(c.after) && c.index === undefined))
  );
};

/** The ids a reference property holds in a document, in order, each once. */
export function referencedIds(property: PropertyDefinition, body: DocumentProperties): string[] {
  const values = valuesAt([property], body).map((found) => found.value);
  return [...new Set(values.filter((v): v is string => typeof v === 'string'))];
}

/**
 * Links between documents, both ways: forward, the documents a reference property of the document names;
 * inverse, the documents whose reference property with that `inverseName` names it (an index look-up, a
 * page at a time).
 */
@Injectable()
export class LinksService {
  constructor(@Inject(VERSIONED_STORE) private readonly store: VersionedStore) {}

  async traverse(id: string, name: string, query: DocumentPageQueryDto): Promise<DocumentListResponseDto> {
    const branch = query.branch ?? MAIN_BRANCH;
    const limit = query.limit ?? 50;
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor, isLinkCursor);
    const where = `on branch '${branch}'${query.at === undefined ? '' : ` at '${query.at}'`}`;
    const read = <T>(fn: (r: BranchReader) => Promise<T>) =>
      query.at === undefined ? this.store.read(branch, fn) : this.store.readAt(branch, query.at, fn);
    return read(async (r) => {
      const document = await r.get<DocumentProperties>('document', id);
      if (!document) throw new NotFound('Document', id, where);
      const types = (await readTypes(r)).map((t) => t.body);
      const type = types.find((t) => t.name === document.objectType);
      const forward = type?.properties.find((p) => p.name === name && p.dataType === 'reference');
      const inverse = inverseLinks(types, document.objectType ?? '').find(
        (l) => l.property.inverseName === name,
      );
      if (cursor && cursor.link !== name) throw this.foreignCursor();
      if (forward) {
        if (cursor && !('index' in cursor)) throw this.foreignCursor();
        const ids = referencedIds(forward, document.body);
        const start = cursor?.index ?? 0;
        const page = ids.slice(start, start + limit);
        const found = await r.getMany<DocumentProperties>('document', page);
        const items = page.flatMap((target) => {
          const record = found.get(target);
          return record ? [toDocumentResponse(record)] : [];
        });
        const more = start + limit < ids.length;
        return { items, nextCursor: more ? encodeCursor({ link: name, index: start + limit }) : null };
      }
      if (!inverse)
        throw new NotFound(
          'Link',
          name,
          `from object type '${document.objectType}': it is neither a reference property nor an inverse name`,
        );
      if (cursor && !('after' in cursor)) throw this.foreignCursor();
      const records = await r.list<DocumentProperties>('document', {
        objectType: inverse.type,
        contains: containmentAt([inverse.property], id),
        sort: 'id',
        after: cursor && 'after' in cursor ? { id: cursor.after } : undefined,
        limit: limit + 1,
      });
      const items = records.slice(0, limit).map(toDocumentResponse);
      const last = items[items.length - 1];
      const more = records.length > limit && last !== undefined;
      return { items, nextCursor: more ? encodeCursor({ link: name, after: last.id }) : null };
    });
  }

  private foreignCursor(): ValidationFailed {
    return new ValidationFailed([{ path: queryPointer('cursor'), message: 'was made for another link' }]);
  }
}
