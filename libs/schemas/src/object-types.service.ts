import { isDeepStrictEqual } from 'node:util';
import { Inject, Injectable } from '@nestjs/common';
import {
  AlreadyExists,
  NotFound,
  SchemaBreakingChange,
  StateConflict,
  ValidationFailed,
  inBody,
  Violation,
  WriteContext,
  last,
  VersionCheck,
} from '@oms/common';
import { ReadThroughCache } from '@oms/caching';
import { validateBody } from '@oms/http';
import { Current, Tagged, currentOf, currentVersion } from '@oms/resilience';
import {
  BranchReader,
  BranchWriter,
  EntityRecord,
  VERSIONED_STORE,
  VersionedStore,
  CommitInfo,
} from '@oms/store';
import { BreakingChangeScan, riskyChanges } from './breaking-changes';
import { PatternSafety } from './pattern-safety';
import { linkNameViolations } from './link-names';
import { sentProperties, structViolations } from './struct-rules';
import { patternSyntaxRule } from './object-type.rules';
import {
  DocumentProperties,
  DocumentSchemaValidator,
  branchJsonSchema,
  typeJsonSchema,
} from './document-schema';
import {
  ObjectTypeDefinition,
  TYPE_NAME_PATTERN,
  readTypes,
  conformance,
  implementersOf,
  isInterface,
  referencePathsTo,
} from './object-type.model';
import { interfaceViolations } from './interface-rules';
import {
  ObjectTypeDto,
  ObjectTypeListResponseDto,
  ObjectTypeResponseDto,
  toDefinition,
  toObjectTypeResponse,
} from './object-type.dto';

const SCAN_PAGE = 500;

export interface WriteResult<T> {
  created: boolean;
  value: T;
}

/** Object types per branch: definitions, reference checks, and breaking-change detection on replace. */
@Injectable()
export class ObjectTypesService {
  constructor(
    @Inject(VERSIONED_STORE) private readonly store: VersionedStore,
    private readonly validator: DocumentSchemaValidator,
    private readonly cache: ReadThroughCache,
    private readonly patterns: PatternSafety,
  ) {}

  /**
   * The branch's types on its head, tagged by its schema version; or `at` a commit or tag of its history
   * (immutable: not cached), tagged by that commit's id.
   */
  async list(branch: string, at?: string): Promise<Tagged<ObjectTypeListResponseDto>> {
    const { tag, body } = await this.findList(branch, at);
    return new Tagged(tag, body);
  }

  /** The list and its tag: read through the cache on the head. */
  private findList(branch: string, at?: string): Promise<{ tag: string; body: ObjectTypeListResponseDto }> {
    const load = async () => {
      const [tag, records] = await Promise.all([this.listTag(branch, at), this.read(branch, at, readTypes)]);
      return { tag, body: { branch, items: records.map(toObjectTypeResponse) } };
    };
    return at === undefined ? this.cache.read(this.cache.keys.objectTypeList(branch), load) : load();
  }

  /** The type on the branch's head, or `at` a commit or tag of its history (immutable: not cached). */
  async get(branch: string, name: string, at?: string): Promise<ObjectTypeResponseDto> {
    const found = await this.find(branch, name, at);
    if (!found)
      throw new NotFound(
        'Object type',
        name,
        `on branch '${branch}'${at === undefined ? '' : ` at '${at}'`}`,
      );
    return found;
  }

  /** The type (null: none), read through the cache on the head. */
  private find(branch: string, name: string, at?: string): Promise<ObjectTypeResponseDto | null> {
    const load = async () => {
      const record = await this.read(branch, at, (r) => r.get<ObjectTypeDefinition>('type', name));
      return record ? toObjectTypeResponse(record) : null;
    };
    return at === undefined ? this.cache.read(this.cache.keys.objectType(branch, name), load) : load();
  }

  /**
   * The current entity tag (for revalidation), with the type. On the head it is read through the cache
   * like a GET, so revalidations keep it there: one store read, then hits until it changes. Without a
   * cache tier, or `at` a commit, the version alone is read (`cachedOnly`: nothing is).
   */
  async current(
    branch: string,
    name: string,
    at?: string,
    cachedOnly = false,
  ): Promise<Current<ObjectTypeResponseDto> | undefined> {
    if (at === undefined && this.cache.caches) return currentOf(await this.find(branch, name));
    if (cachedOnly) return undefined;
    return currentVersion(await this.read(branch, at, (r) => r.version('type', name)));
  }

  /**
   * The entity tag of the branch's type list (moves with every schema write there); on the head, with the list
   * read through the cache (without a cache tier: the tag alone; `cachedOnly`: nothing).
   */
  async currentList(
    branch: string,
    at?: string,
    cachedOnly = false,
  ): Promise<Current<Tagged<ObjectTypeListResponseDto>> | undefined> {
    if (at === undefined && this.cache.caches) {
      const { tag, body } = await this.findList(branch);
      return { tag, body: new Tagged(tag, body) };
    }
    return cachedOnly ? undefined : { tag: await this.listTag(branch, at) };
  }

  /** The branch's types as one JSON Schema 2020-12 document, tagged like the type list (every schema write moves it). */
  async jsonSchema(branch: string, at?: string): Promise<Tagged<object>> {
    const { tag, body } = await this.findList(branch, at);
    return new Tagged(tag, branchJsonSchema(branch, body.items));
  }

  /** One type's documents as a JSON Schema 2020-12 document, tagged like the type. */
  async typeJsonSchema(branch: string, name: string, at?: string): Promise<Tagged<object>> {
    const type = await this.get(branch, name, at);
    return new Tagged(String(type.version), typeJsonSchema(branch, type));
  }

  /** The entity tag of the branch's JSON Schema, with the schema when the type list was found cached. */
  async currentJsonSchema(
    branch: string,
    at?: string,
    cachedOnly = false,
  ): Promise<Current<Tagged<object>> | undefined> {
    const list = await this.currentList(branch, at, cachedOnly);
    if (!list?.body) return list && { tag: list.tag };
    return { tag: list.tag, body: new Tagged(list.body.tag, branchJsonSchema(branch, list.body.body.items)) };
  }

  /** The entity tag of one type's JSON Schema, with the schema when the type was found cached. */
  async currentTypeJsonSchema(
    branch: string,
    name: string,
    at?: string,
    cachedOnly = false,
  ): Promise<Current<Tagged<object>> | undefined> {
    const type = await this.current(branch, name, at, cachedOnly);
    if (!type?.body) return type && { tag: type.tag };
    return { tag: type.tag, body: new Tagged(type.tag!, typeJsonSchema(branch, type.body)) };
  }

  /** The type list's tag: the schema version of the head, or the id of the commit `at` names (never moves). */
  private async listTag(branch: string, at: string | undefined): Promise<string> {
    return at === undefined
      ? this.store.schemaVersion(branch)
      : (await this.store.commitInHistory(branch, at)).id;
  }

  /** Reads the branch's head, or the branch as it was at a commit or tag of its history. */
  private read<T>(branch: string, at: string | undefined, fn: (r: BranchReader) => Promise<T>): Promise<T> {
    return at === undefined ? this.store.read(branch, fn) : this.store.readAt(branch, at, fn);
  }

  /**
   * One commit on the branch, with the request's precondition on the type checked first, under the lock;
   * once it is in, the type and the branch's list are no longer what the cache holds.
   */
  private write<T>(
    branch: string,
    name: string,
    commit: CommitInfo,
    precondition: VersionCheck | undefined,
    fn: (w: BranchWriter) => Promise<T>,
  ): Promise<T> {
    const { keys } = this.cache;
    const write = this.store.write(branch, commit, fn, {
      precondition: precondition && { kind: 'type', id: name, check: precondition },
    });
    return this.cache.afterWrite([keys.objectType(branch, name), keys.objectTypeList(branch)], write);
  }

  async create(branch: string, body: unknown, ctx: WriteContext): Promise<ObjectTypeResponseDto> {
    const { dto, violations } = await this.validBody(body);
    const message = ctx.message ?? `Create object type ${String(dto.name)}`;
    const name = String(dto.name);
    return this.write(branch, name, { author: ctx.author, message }, ctx.precondition, async (w) => {
      const definition = await this.validDefinition(w, branch, dto, violations);
      const check = (current: { version: number } | null) => {
        if (current) throw new AlreadyExists('Object type', definition.name, `on branch '${branch}'`);
      };
      const record = await w.put('type', definition.name, { objectType: null, body: definition }, check);
      return toObjectTypeResponse(record);
    });
  }

  /** PUT: replaces the definition (refusing breaking changes), or creates it when absent. */
  async replace(
    branch: string,
    name: string,
    body: unknown,
    ctx: WriteContext,
  ): Promise<WriteResult<ObjectTypeResponseDto>> {
    const { dto, violations } = await this.validBody(body);
    if (typeof dto.name === 'string' && dto.name !== name) {
      violations.push({ path: '/name', message: `must equal the name in the path ('${name}')` });
    }
    const commit = { author: ctx.author, message: ctx.message ?? '' };
    return this.write(branch, name, commit, ctx.precondition, async (w) => {
      const current = await w.get<ObjectTypeDefinition>('type', name);
      w.describe(ctx.message ?? `${current ? 'Replace' : 'Create'} object type ${name}`);
      const definition = await this.validDefinition(w, branch, dto, violations);
      // The same definition again: nothing to write, no commit, the current version.
      if (current && isDeepStrictEqual(current.body, definition)) {
        return { created: false, value: toObjectTypeResponse(current) };
      }
      if (current) await this.refuseBreakingChanges(w, current.body, definition);
      const record = await w.put('type', name, { objectType: null, body: definition });
      return { created: !current, value: toObjectTypeResponse(record) };
    });
  }

  delete(branch: string, name: string, ctx: WriteContext): Promise<void> {
    const commit = { author: ctx.author, message: ctx.message ?? `Delete object type ${name}` };
    return this.write(branch, name, commit, ctx.precondition, async (w) => {
      await this.require(w, branch, name);
      const documents = await w.count('document', { objectType: name });
      if (documents > 0) {
        const sample = await w.list('document', { objectType: name, limit: 10 });
        throw new StateConflict(
          'Object type in use',
          `${documents} document(s) of type '${name}' exist on branch '${branch}'.`,
          { documents: { total: documents, sample: sample.map((d) => d.id) } },
        );
      }
      const types = await readTypes(w);
      const implementing = implementersOf(
        types.map((t) => t.body),
        name,
      ).map((t) => t.name);
      if (implementing.length > 0) {
        throw new StateConflict(
          'Object type in use',
          `Object types implement '${name}' on branch '${branch}': ${implementing.join(', ')}.`,
          { implementingTypes: { total: implementing.length, sample: implementing.slice(0, 20) } },
        );
      }
      const referencing = types
        .filter((t) => t.id !== name && referencePathsTo(t.body, name).length > 0)
        .map((t) => t.id);
      if (referencing.length > 0) {
        throw new StateConflict(
          'Object type in use',
          `Object types reference '${name}' on branch '${branch}': ${referencing.join(', ')}.`,
          { referencingTypes: { total: referencing.length, sample: referencing.slice(0, 20) } },
        );
      }
      await w.remove('type', name);
    });
  }

  private async require(
    reader: BranchReader,
    branch: string,
    name: string,
  ): Promise<EntityRecord<ObjectTypeDefinition>> {
    const record = await reader.get<ObjectTypeDefinition>('type', name);
    if (!record) throw new NotFound('Object type', name, `on branch '${branch}'`);
    return record;
  }

  /**
   * The body's violations, with a proof for each pattern that it cannot backtrack super-linearly: done
   * before the write, as a proof can take a while and the write holds the branch.
   */
  private async validBody(body: unknown): Promise<{ dto: ObjectTypeDto; violations: Violation[] }> {
    const { value: dto, violations } = validateBody(ObjectTypeDto, body);
    for (const { pointer, value } of sentProperties(dto.properties)) {
      const pattern = value.pattern;
      if (typeof pattern !== 'string' || patternSyntaxRule(pattern) !== null) continue;
      const problem = await this.patterns.problem(pattern);
      if (problem) violations.push({ path: `${pointer}/pattern`, message: problem });
    }
    return { dto, violations };
  }

  /**
   * The definition, once every violation is known: the body's own (shape, rules) and the store's
   * (every referenceType must name a type on the branch, or the type itself) — reported together.
   */
  private async validDefinition(
    reader: BranchReader,
    branch: string,
    dto: ObjectTypeDto,
    violations: Violation[],
  ): Promise<ObjectTypeDefinition> {
    const properties: unknown[] = Array.isArray(dto.properties) ? dto.properties : [];
    const sent = sentProperties(properties);
    violations.push(...structViolations(sent));
    const wanted = sent
      .map((p) => ({ pointer: p.pointer, target: p.value.referenceType }))
      .filter(
        (r): r is { pointer: string; target: string } =>
          typeof r.target === 'string' && TYPE_NAME_PATTERN.test(r.target) && r.target !== dto.name,
      );
    const existing = await reader.getMany('type', [...new Set(wanted.map((r) => r.target))]);
    for (const r of wanted.filter((w) => !existing.has(w.target))) {
      violations.push({
        path: `${r.pointer}/referenceType`,
        message: `object type '${r.target}' does not exist on branch '${branch}'`,
      });
    }
    // Inverse names, both ways: this type's against their targets, its properties against those aimed at it.
    const types = await readTypes(reader);
    const others = types.map((t) => t.body);
    violations.push(...linkNameViolations(String(dto.name), properties, others, dto.primaryKey));
    if (violations.length > 0) throw new ValidationFailed(inBody(violations));
    const definition = toDefinition(dto);
    violations.push(...interfaceViolations(definition, others));
    if (violations.length > 0) throw new ValidationFailed(inBody(violations));
    return definition;
  }

  /**
   * A type with documents cannot become an interface, nor an interface with implementers an object type; an
   * interface's change must leave every implementer conforming (which keeps each implementer's documents
   * valid as the interface's: they accept no value the interface refuses).
   */
  private async refuseKindChanges(
    w: BranchWriter,
    before: ObjectTypeDefinition,
    after: ObjectTypeDefinition,
  ): Promise<void> {
    if (!isInterface(before) && isInterface(after)) {
      const documents = await w.count('document', { objectType: after.name });
      if (documents > 0)
        throw new StateConflict(
          'Object type in use',
          `'${after.name}' has ${documents} document(s): it cannot become an interface, which holds none.`,
        );
    }
    if (!isInterface(before)) return;
    const types = (await readTypes(w)).map((t) => t.body);
    const implementers = implementersOf(types, after.name);
    if (implementers.length === 0) return;
    const broken = implementers
      .map((type) => ({
        name: type.name,
        problems: isInterface(after) ? conformance(after, type) : ['the interface would no longer be one'],
      }))
      .filter((i) => i.problems.length > 0);
    if (broken.length === 0) return;
    throw new StateConflict(
      'Interface change breaks implementers',
      `Object types implementing '${after.name}' would no longer conform: ` +
        broken.map((b) => `${b.name} (${b.problems.join('; ')})`).join(', ') +
        '. Change them first.',
      { implementers: broken },
    );
  }

  /** Throws SchemaBreakingChange when documents of the type on the writer's branch would break under `after`. */
  async refuseBreakingChanges(
    w: BranchWriter,
    before: ObjectTypeDefinition,
    after: ObjectTypeDefinition,
  ): Promise<void> {
    await this.refuseKindChanges(w, before, after);
    const changes = riskyChanges(before, after);
    if (changes.size === 0) return;
    const validate = this.validator.draft(after);
    const scan = new BreakingChangeScan(changes, validate);
    let position: { id: string } | undefined;
    for (;;) {
      const page = await w.list<DocumentProperties>('document', {
        objectType: after.name,
        limit: SCAN_PAGE,
        after: position,
      });
      page.forEach((d) => scan.add(d));
      if (page.length < SCAN_PAGE) break;
      position = { id: last(page).id };
    }
    const breaking = await scan.finish(async (ids) => {
      const found = await w.getMany('document', ids);
      return new Map(ids.map((id) => [id, found.get(id)?.objectType ?? null]));
    });
    if (breaking.length > 0) throw new SchemaBreakingChange(after.name, breaking);
  }
}
