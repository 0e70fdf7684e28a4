import { Inject, Injectable } from '@nestjs/common';
import { NotFound, ValidationFailed, pathPointer } from '@oms/common';
import { decodeBeforeCursor, decodeCursor, encodeBeforeCursor, encodeCursor } from '@oms/http';
import { ObjectTypeDefinition, riskyChanges } from '@oms/schemas';
import { EntityChange, MAIN_BRANCH, VERSIONED_STORE, VersionedStore } from '@oms/store';
import { fieldChanges } from './three-way';
import {
  ChangeCountsDto,
  CommitChangesDto,
  CommitDetailDto,
  CompareQueryDto,
  CompareResponseDto,
  DocumentChangeDto,
  HistoryEntryDto,
  HistoryQueryDto,
  SchemaChangeDto,
  TagResponseDto,
  toCommitDetail,
  toTagResponse,
} from './versioning.dto';

const DEFAULT_LIMIT = 100;

interface ChangeCursor {
  after: string;
}
const isChangeCursor = (v: unknown): v is ChangeCursor =>
  typeof v === 'object' && v !== null && typeof (v as ChangeCursor).after === 'string';

/** `base...head` (from their merge base) or `base..head` (from base itself). */
export function parseRange(range: string): { base: string; head: string; mode: 'three-dot' | 'two-dot' } {
  const three = range.indexOf('...');
  const two = range.indexOf('..');
  const [at, width, mode] = three >= 0 ? [three, 3, 'three-dot' as const] : [two, 2, 'two-dot' as const];
  const [base, head] = at >= 0 ? [range.slice(0, at), range.slice(at + width)] : ['', ''];
  if (!base || !head) {
    throw new ValidationFailed([
      { path: pathPointer('range'), message: 'must be {base}...{head} or {base}..{head}' },
    ]);
  }
  return { base, head, mode };
}

const op = (c: EntityChange) => (!c.before ? 'added' : !c.after ? 'removed' : 'modified');
const sortKey = (c: EntityChange) => `${c.kind === 'type' ? 0 : 1}\u0000${c.id}`;

function schemaChange(c: EntityChange): SchemaChangeDto {
  const before = c.before?.body as ObjectTypeDefinition | undefined;
  const after = c.after?.body as ObjectTypeDefinition | undefined;
  return {
    objectType: c.id,
    op: op(c),
    fromVersion: c.before?.version ?? null,
    toVersion: c.after?.version ?? null,
    breaking: !after ? !!before : !!before && riskyChanges(before, after).size > 0,
    changes: fieldChanges('type', c.before?.body, c.after?.body),
  };
}

function documentChange(c: EntityChange): DocumentChangeDto {
  return {
    objectType: (c.after ?? c.before)?.objectType ?? '',
    id: c.id,
    op: op(c),
    fromVersion: c.before?.version ?? null,
    toVersion: c.after?.version ?? null,
    changes: fieldChanges('document', c.before?.body, c.after?.body).map((f) => ({
      ...f,
      path: `/properties${f.path}`,
    })),
  };
}

/** Comparisons, commits, the history of one document, and tags: reads of the version graph. */
@Injectable()
export class HistoryService {
  constructor(@Inject(VERSIONED_STORE) private readonly store: VersionedStore) {}

  async compare(range: string, query: CompareQueryDto): Promise<CompareResponseDto> {
    const { base, head, mode } = parseRange(range);
    const comparison = await this.store.compare(base, head, mode);
    const include = new Set((query.include ?? 'schema,documents').split(','));
    const wanted = comparison.changes.filter(
      (c) =>
        include.has(c.kind === 'type' ? 'schema' : 'documents') &&
        (query.objectType === undefined ||
          (c.kind === 'type' ? c.id : (c.after ?? c.before)?.objectType) === query.objectType),
    );
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, isChangeCursor).after;
    const limit = query.limit ?? DEFAULT_LIMIT;
    const rest = wanted.filter((c) => after === undefined || sortKey(c) > after);
    const page = rest.slice(0, limit);
    const lastOfPage = page.at(-1);
    return {
      base: comparison.base.id,
      head: comparison.head.id,
      mergeBase: comparison.mergeBase.id,
      summary: summarize(wanted),
      schema: page.filter((c) => c.kind === 'type').map(schemaChange),
      documents: page.filter((c) => c.kind === 'document').map(documentChange),
      nextCursor: rest.length > limit && lastOfPage ? encodeCursor({ after: sortKey(lastOfPage) }) : null,
    };
  }

  /** A commit of the branch's history. */
  async commit(branch: string, id: string): Promise<CommitDetailDto> {
    return toCommitDetail(await this.store.commitInHistory(branch, id));
  }

  async commitChanges(branch: string, id: string): Promise<CommitChangesDto> {
    const commit = await this.store.commitInHistory(branch, id);
    const changes = await this.store.commitChanges(commit.id);
    return {
      commit: commit.id,
      schema: changes.filter((c) => c.kind === 'type').map(schemaChange),
      documents: changes.filter((c) => c.kind === 'document').map(documentChange),
    };
  }

  /** Newest first; each entry's changes are against the version before it in the list. */
  async documentHistory(
    id: string,
    query: HistoryQueryDto,
  ): Promise<{ items: HistoryEntryDto[]; nextCursor: string | null }> {
    const branch = query.branch ?? MAIN_BRANCH;
    const limit = query.limit ?? 50;
    const before = query.cursor === undefined ? undefined : decodeBeforeCursor(query.cursor);
    // One more than the page: the last entry's changes are against it.
    const entries = await this.store.history(branch, 'document', id, limit + 1, before);
    if (entries.length === 0 && before === undefined)
      throw new NotFound('Document', id, `in the history of branch '${branch}'`);
    const items = entries.slice(0, limit).map((entry, i) => {
      const previous = entries[i + 1]?.record ?? null;
      const change: EntityChange = { kind: 'document', id, before: previous, after: entry.record };
      return {
        commit: entry.commit.id,
        version: entry.record?.version ?? null,
        author: entry.commit.author,
        message: entry.commit.message,
        createdAt: entry.commit.createdAt.toISOString(),
        op: op(change),
        changes: documentChange(change).changes,
      };
    });
    const lastEntry = entries[limit - 1];
    return {
      items,
      nextCursor: entries.length > limit && lastEntry ? encodeBeforeCursor(lastEntry.commit.seq) : null,
    };
  }

  async createTag(name: string, commit: string, author: string, message = ''): Promise<TagResponseDto> {
    return toTagResponse(await this.store.createTag(name, commit, author, message));
  }

  async listTags(): Promise<TagResponseDto[]> {
    return (await this.store.listTags()).map(toTagResponse);
  }
}

function summarize(changes: EntityChange[]): CompareResponseDto['summary'] {
  const counts = (): ChangeCountsDto => ({ added: 0, modified: 0, removed: 0 });
  const schema = { ...counts(), breaking: 0 };
  const documents: Record<string, ChangeCountsDto> = {};
  for (const c of changes) {
    if (c.kind === 'type') {
      const s = schemaChange(c);
      schema[s.op as keyof ChangeCountsDto] += 1;
      if (s.breaking) schema.breaking += 1;
    } else {
      const type = (c.after ?? c.before)?.objectType ?? '';
      const of = (documents[type] ??= counts());
      of[op(c)] += 1;
    }
  }
  return { schema, documents };
}
