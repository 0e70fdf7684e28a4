import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { Inject, Injectable } from '@nestjs/common';
import {
  AlreadyExists,
  NotFound,
  ValidationFailed,
  Violation,
  WriteContext,
  queryPointer,
  last,
  VersionCheck,
} from '@oms/common';
import {
  DocumentProperties,
  DocumentSchemaValidator,
  implementersOf,
  isInterface,
  readTypes,
} from '@oms/schemas';
import { BranchReader, BranchWriter, CommitInfo, VERSIONED_STORE, VersionedStore } from '@oms/store';
import { ReadThroughCache } from '@oms/caching';
import { Current, currentOf, currentVersion } from '@oms/resilience';
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
import { DocumentIntegrity, DocumentRecord, REFERRERS_SHOWN, referencedConflict } from './document-integrity';
import { DeletePlan, hasActiveLinks, planDelete } from './links/delete-plan';

import { applyMergePatch, checkPatch } from './merge-patch';

export interface WriteResult<T> {
  created: boolean;
  value: T;
}

/** A document body's free-form member: its keys are property names, kept exactly as sent. */
const LITERAL = ['properties'];

/** Documents per branch, validated against their object type on that branch. */
@Injectable()
export class DocumentsService {
  constructor(
    @Inject(VERSIONED_STORE) private readonly store: VersionedStore,
    private readonly validator: DocumentSchemaValidator,
    private readonly integrity: DocumentIntegrity,
    private readonly cache: ReadThroughCache,
    private readonly config: OmsConfig,
  ) {}

  /** The document on the branch's head, or `at` a commit or tag of its history (immutable: not cached). */
  async get(branch: string, id: string, at?: string): Promise<DocumentResponseDto> {
    const found = await this.find(branch, id, at);
    if (!found)
      throw new NotFound('Document', id, `on branch '${branch}'${at === undefined ? '' : ` at '${at}'`}`);
    return found;
  }

  /** The document (null: none), read through the cache on the head. */
  private find(branch: string, id: string, at?: string): Promise<DocumentResponseDto | null> {
    const load = async () => {
      const record = await this.read(branch, at, (r) => r.get<DocumentProperties>('document', id));
      return record ? toDocumentResponse(record) : null;
    };
    return at === undefined ? this.cache.read(this.cache.keys.document(branch, id), load) : load();
  }

  /**
   * The current entity tag (for revalidation), with the document. On the head it is read through the cache
   * like a GET, so revalidations keep it there: one store read, then hits until it changes. Without a
   * cache tier, or `at` a commit, the version alone is read (`cachedOnly`: nothing is).
   */
  async current(
    branch: string,
    id: string,
    at?: string,
    cachedOnly = false,
  ): Promise<Current<DocumentResponseDto> | undefined> {
    if (at === undefined && this.cache.caches) return currentOf(await this.find(branch, id));
    if (cachedOnly) return undefined;
    return currentVersion(await this.read(branch, at, (r) => r.version('document', id)));
  }

  /** Reads the branch's head, or the branch as it was at a commit or tag of its history. */
  private read<T>(branch: string, at: string | undefined, fn: (r: BranchReader) => Promise<T>): Promise<T> {
    return at === undefined ? this.store.read(branch, fn) : this.store.readAt(branch, at, fn);
  }

  /** One commit on the branch; once it is in, the document's cached copies are dropped everywhere. */
  private write<T>(
    branch: string,
    id: string,
    commit: CommitInfo,
    fn: (w: BranchWriter) => Promise<T>,
    precondition?: VersionCheck,
    /** Other documents the write has reached so far (read when it ends): their cached copies go too. */
    reached: () => string[] = () => [],
  ): Promise<T> {
    return this.cache.afterWrite(
      () => [id, ...reached()].map((doc) => this.cache.keys.document(branch, doc)),
      this.store.write(branch, commit, fn, {
        precondition: precondition && { kind: 'document', id, check: precondition },
      }),
    );
  }

  async list(query: ParsedListQuery): Promise<DocumentListResponseDto> {
    return this.read(query.branch, query.at, async (r) => {
      let contains: Record<string, unknown> | undefined;
      const violations: Violation[] = [];
      const type = query.objectType
        ? await this.integrity.findType(
            r,
            query.branch,
            query.objectType,
            violations,
            queryPointer('objectType'),
          )
        : null;
      // An interface lists the documents of every type implementing it.
      let objectTypes: string[] | undefined;
      if (type && isInterface(type.body)) {
        const types = await readTypes(r);
        objectTypes = implementersOf(
          types.map((t) => t.body),
          type.id,
        ).map((t) => t.name);
      }
      // Filters need the type (an unknown one is a 400 then); a list of an unknown type is empty.
      if (query.filters.length > 0) {
        if (!type) throw new ValidationFailed(violations);
        contains = toContainment(type.body, query.filters, this.config.http.jsonMaxDepth, (p, v) =>
          this.validator.valueProblem(p, v),
        );
      }
      const records = await r.list<DocumentProperties>('document', {
        ...(objectTypes ? { objectTypes } : { objectType: query.objectType }),
        contains,
        sort: query.sort,
        after: query.after,
        limit: query.limit + 1,
      });
      const items = records.slice(0, query.limit).map(toDocumentResponse);
      const more = records.length > query.limit;
      return { items, nextCursor: more ? nextCursor(query.sort, last(items)) : null };
    });
  }

  create(branch: string, body: unknown, ctx: WriteContext): Promise<DocumentResponseDto> {
    const { value: dto, violations } = validateBody(CreateDocumentDto, body, LITERAL);
    const id = typeof dto.id === 'string' ? dto.id : randomUUID();
    const message = ctx.message ?? `Create ${String(dto.objectType)} ${id}`;
    return this.write(
      branch,
      id,
      { author: ctx.author, message },
      async (w) => {
        const found = await this.integrity.findType(w, branch, dto.objectType, violations);
        const { type, properties } = await this.integrity.validated(
          w,
          branch,
          found,
          dto.properties,
          violations,
        );
        await this.integrity.checkUnique(w, type, id, properties);
        const record = await w.put('document', id, { objectType: type.id, body: properties }, (current) => {
          if (current) throw new AlreadyExists('Document', id, `on branch '${branch}'`);
        });
        return toDocumentResponse(record);
      },
      ctx.precondition,
    );
  }

  /** PUT: replaces the properties, or creates the document when absent (then objectType is required). */
  replace(
    branch: string,
    id: string,
    body: unknown,
    ctx: WriteContext,
  ): Promise<WriteResult<DocumentResponseDto>> {
    const { value: dto, violations } = validateBody(ReplaceDocumentDto, body, LITERAL);
    return this.write(
      branch,
      id,
      { author: ctx.author, message: ctx.message ?? '' },
      async (w) => {
        const current = await w.get<DocumentProperties>('document', id);
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
        const found = await this.integrity.findType(
          w,
          branch,
          current?.objectType ?? dto.objectType,
          violations,
        );
        const { type, properties } = await this.integrity.validated(
          w,
          branch,
          found,
          dto.properties,
          violations,
        );
        // The same properties again: nothing to write, no commit, the current version.
        if (current && isDeepStrictEqual(current.body, properties)) {
          return { created: false, value: toDocumentResponse(current) };
        }
        await this.integrity.checkUnique(w, type, id, properties);
        const record = await w.put('document', id, { objectType: type.id, body: properties });
        return { created: !current, value: toDocumentResponse(record) };
      },
      ctx.precondition,
    );
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
        const found = await this.integrity.findType(w, branch, current.objectType, []);
        const merged = applyMergePatch(current.body, changes);
        const { type, properties } = await this.integrity.validated(w, branch, found, merged, []);
        // An empty patch, or one that changes nothing: no commit, the current version.
        if (isDeepStrictEqual(current.body, properties)) return toDocumentResponse(current);
        await this.integrity.checkUnique(w, type, id, properties);
        return toDocumentResponse(await w.put('document', id, { objectType: type.id, body: properties }));
      },
      ctx.precondition,
    );
  }

  /**
   * Deletes the document and, in the same commit, what its links' `onDelete` rules say: referrers deleted
   * (cascade) or their references removed (nullify); a `restrict` referrer refuses it (409).
   */
  delete(branch: string, id: string, ctx: WriteContext): Promise<DeletePlan> {
    // Known once planned: dropped from the cache after the commit, or when its outcome is unknown.
    let reached: string[] = [];
    return this.write(
      branch,
      id,
      { author: ctx.author, message: ctx.message ?? `Delete document ${id}` },
      async (w) => {
        const current = await this.require(w, branch, id);
        const self = { id, objectType: current.objectType ?? '' };
        const types = await readTypes(w);
        if (!hasActiveLinks(types, self.objectType)) {
          await this.integrity.checkUnreferenced(w, current);
          await w.remove('document', id);
          return { deleted: [self], updated: [] };
        }
        const { plan, restrictions } = await planDelete(w, types, current, this.config.documents.maxCascade);
        if (restrictions.length > 0) {
          const sample = restrictions.slice(0, REFERRERS_SHOWN);
          throw referencedConflict(current, { total: restrictions.length, sample });
        }
        await this.integrity.checkNullified(w, branch, types, current, plan.updated);
        reached = [...plan.deleted.slice(1), ...plan.updated].map((d) => d.id);
        await w.remove('document', id);
        await w.writeMany('document', [
          ...plan.deleted.slice(1).map((d) => ({ id: d.id, value: null })),
          ...plan.updated.map((u) => ({ id: u.id, value: { objectType: u.objectType, body: u.properties } })),
        ]);
        return plan;
      },
      ctx.precondition,
      () => reached,
    );
  }

  private async require(reader: BranchReader, branch: string, id: string): Promise<DocumentRecord> {
    const record = await reader.get<DocumentProperties>('document', id);
    if (!record) throw new NotFound('Document', id, `on branch '${branch}'`);
    return record;
  }
}
