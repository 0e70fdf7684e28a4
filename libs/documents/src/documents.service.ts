import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { Inject, Injectable } from '@nestjs/common';
import {
  AlreadyExists,
  NotFound,
  StateConflict,
  UniqueViolation,
  own,
  ValidationFailed,
  Violation,
  WriteContext,
  bodyPointer,
  inBody,
  queryPointer,
} from '@oms/common';
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
import {
  BranchReader,
  BranchWriter,
  CommitInfo,
  EntityRecord,
  VERSIONED_STORE,
  VersionedStore,
} from '@oms/store';
import { ReadThroughCache } from '@oms/caching';
import { OmsConfig } from '@oms/config';
import { validateBody } from '@oms/http';
import {
  CreateDocumentDto,
  DocumentListResponseDto,
  DocumentResponseDto,
  ReplaceDocumentDto,
  toDocumentResponse,
} from './document.dto';
import { ParsedListQuery, nextCursor, toContainment } from './list-query';
import { applyMergePatch, isPlainObject } from './merge-patch';

type DocumentRecord = EntityRecord<DocumentProperties>;
type TypeRecord = EntityRecord<ObjectTypeDefinition>;

export interface WriteResult<T> {
  created: boolean;
  value: T;
}

const REFERRERS_SHOWN = 20;

/** What refers to a document: a total, and a sample of at most REFERRERS_SHOWN. */
interface Referrers {
  total: number;
  sample: { id: string; objectType: string; property: string }[];
}
/** A document body's free-form member: its keys are property names, kept exactly as sent. */
const LITERAL = ['properties'];

/** Documents per branch, validated against their object type on that branch. */
@Injectable()
export class DocumentsService {
  constructor(
    @Inject(VERSIONED_STORE) private readonly store: VersionedStore,
    private readonly validator: DocumentSchemaValidator,
    private readonly cache: ReadThroughCache,
    private readonly config: OmsConfig,
  ) {}

  async get(branch: string, id: string): Promise<DocumentResponseDto> {
    const found = await this.cache.read(this.cache.keys.document(branch, id), async () => {
      const record = await this.store.read(branch, (r) => r.get<DocumentProperties>('document', id));
      return record ? toDocumentResponse(record) : null;
    });
    if (!found) throw new NotFound('Document', id, `on branch '${branch}'`);
    return found;
  }

  /** The current entity tag (for revalidation), or null when absent; from the cache, else the version alone. */
  async tag(branch: string, id: string): Promise<string | null> {
    const cached = await this.cache.peek<DocumentResponseDto | null>(this.cache.keys.document(branch, id));
    const version =
      cached !== undefined
        ? (cached?.version ?? null)
        : await this.store.read(branch, (r) => r.version('document', id));
    return version === null ? null : String(version);
  }

  /** One commit on the branch; once it is in, the document's cached copies are dropped everywhere. */
  private write<T>(
    branch: string,
    id: string,
    commit: CommitInfo,
    fn: (w: BranchWriter) => Promise<T>,
  ): Promise<T> {
    return this.cache.afterWrite(
      [this.cache.keys.document(branch, id)],
      this.store.write(branch, commit, fn),
    );
  }

  async list(query: ParsedListQuery): Promise<DocumentListResponseDto> {
    return this.store.read(query.branch, async (r) => {
      let contains: Record<string, unknown> | undefined;
      if (query.objectType && query.filters.length > 0) {
        const violations: Violation[] = [];
        const type = await this.findType(
          r,
          query.branch,
          query.objectType,
          violations,
          queryPointer('objectType'),
        );
        if (!type) throw new ValidationFailed(violations);
        contains = toContainment(type.body, query.filters, this.config.http.jsonMaxDepth, (p, v) =>
          this.validator.valueProblem(p, v),
        );
      }
      const records = await r.list<DocumentProperties>('document', {
        objectType: query.objectType,
        contains,
        sort: query.sort,
        after: query.after,
        limit: query.limit + 1,
      });
      const items = records.slice(0, query.limit).map(toDocumentResponse);
      const more = records.length > query.limit;
      return { items, nextCursor: more ? nextCursor(query.sort, items[items.length - 1]) : null };
    });
  }

  create(branch: string, body: unknown, ctx: WriteContext): Promise<DocumentResponseDto> {
    const { value: dto, violations } = validateBody(CreateDocumentDto, body, LITERAL);
    const id = typeof dto.id === 'string' ? dto.id : randomUUID();
    const message = ctx.message ?? `Create ${String(dto.objectType)} ${id}`;
    return this.write(branch, id, { author: ctx.author, message }, async (w) => {
      const found = await this.findType(w, branch, dto.objectType, violations);
      const { type, properties } = await this.validated(w, branch, found, dto.properties, violations);
      await this.checkUnique(w, type, id, properties);
      const record = await w.put('document', id, { objectType: type.id, body: properties }, (current) => {
        ctx.precondition?.(current?.version ?? null);
        if (current) throw new AlreadyExists('Document', id, `on branch '${branch}'`);
      });
      return toDocumentResponse(record);
    });
  }

  /** PUT: replaces the properties, or creates the document when absent (then objectType is required). */
  replace(
    branch: string,
    id: string,
    body: unknown,
    ctx: WriteContext,
  ): Promise<WriteResult<DocumentResponseDto>> {
    const { value: dto, violations } = validateBody(ReplaceDocumentDto, body, LITERAL);
    return this.write(branch, id, { author: ctx.author, message: ctx.message ?? '' }, async (w) => {
      const current = await w.get<DocumentProperties>('document', id);
      ctx.precondition?.(current?.version ?? null);
      w.describe(ctx.message ?? `${current ? 'Replace' : 'Create'} document ${id}`);
      if (current && dto.objectType !== undefined && dto.objectType !== current.objectType) {
        violations.push({
          path: '/objectType',
          message: `must match the document's type (${current.objectType})`,
        });
      }
      if (!current && dto.objectType === undefined) {
        violations.push({ path: '/objectType', message: 'is required to create a document with PUT' });
      }
      const found = await this.findType(w, branch, current?.objectType ?? dto.objectType, violations);
      const { type, properties } = await this.validated(w, branch, found, dto.properties, violations);
      // The same properties again: nothing to write, no commit, the current version.
      if (current && isDeepStrictEqual(current.body, properties)) {
        return { created: false, value: toDocumentResponse(current) };
      }
      await this.checkUnique(w, type, id, properties);
      const record = await w.put('document', id, { objectType: type.id, body: properties });
      return { created: !current, value: toDocumentResponse(record) };
    });
  }

  /** PATCH: an RFC 7396 merge patch of the representation; only `properties` may change. */
  patch(branch: string, id: string, patch: unknown, ctx: WriteContext): Promise<DocumentResponseDto> {
    const changes = checkPatch(patch);
    return this.write(
      branch,
      id,
      { author: ctx.author, message: ctx.message ?? `Patch document ${id}` },
      async (w) => {
        const current = await this.require(w, branch, id);
        ctx.precondition?.(current.version);
        const found = await this.findType(w, branch, current.objectType, []);
        const merged = applyMergePatch(current.body, changes);
        const { type, properties } = await this.validated(w, branch, found, merged, []);
        // An empty patch, or one that changes nothing: no commit, the current version.
        if (isDeepStrictEqual(current.body, properties)) return toDocumentResponse(current);
        await this.checkUnique(w, type, id, properties);
        return toDocumentResponse(await w.put('document', id, { objectType: type.id, body: properties }));
      },
    );
  }

  delete(branch: string, id: string, ctx: WriteContext): Promise<void> {
    return this.write(
      branch,
      id,
      { author: ctx.author, message: ctx.message ?? `Delete document ${id}` },
      async (w) => {
        const current = await this.require(w, branch, id);
        ctx.precondition?.(current.version);
        const referrers = await this.referrers(w, current);
        if (referrers.total > 0) {
          const more = referrers.total - referrers.sample.length;
          throw new StateConflict(
            'Document is referenced',
            `Document '${id}' is referenced by ${referrers.total} document(s): ` +
              referrers.sample.map((r) => `'${r.id}'`).join(', ') +
              (more > 0 ? ` and ${more} more.` : '.'),
            { referencedBy: referrers },
          );
        }
        await w.remove('document', id);
      },
    );
  }

  private async require(reader: BranchReader, branch: string, id: string): Promise<DocumentRecord> {
    const record = await reader.get<DocumentProperties>('document', id);
    if (!record) throw new NotFound('Document', id, `on branch '${branch}'`);
    return record;
  }

  /** The named type on the branch, or null with a violation (a malformed name is already reported). */
  private async findType(
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
  private async validated(
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
  private async checkUnique(
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

/** A patch is an object whose only member is `properties`, itself an object. */
function checkPatch(patch: unknown): Record<string, unknown> {
  if (!isPlainObject(patch)) {
    throw new ValidationFailed([
      { path: bodyPointer(), message: 'must be a JSON object (a merge patch of the document)' },
    ]);
  }
  const violations: Violation[] = Object.keys(patch)
    .filter((key) => key !== 'properties')
    .map((key) => ({ path: `/${key}`, message: 'cannot be changed; only properties may be patched' }));
  if (patch.properties !== undefined && !isPlainObject(patch.properties)) {
    violations.push({ path: '/properties', message: 'must be an object' });
  }
  if (violations.length > 0) throw new ValidationFailed(inBody(violations));
  return (patch.properties as Record<string, unknown> | undefined) ?? {};
}
