import { Inject, Injectable } from '@nestjs/common';
import { NotFound, PreconditionFailed, ValidationFailed } from '@oms/common';
import { OmsConfig } from '@oms/config';
import { ReadThroughCache } from '@oms/caching';
import { DocumentProperties, DocumentSchemaValidator, ObjectTypeDefinition, readTypes } from '@oms/schemas';
import { ListPosition, VERSIONED_STORE, VersionedStore } from '@oms/store';
import { TagCondition, formatEtag, strongMatch } from '@oms/resilience';
import bytes from 'bytes';
import { toDocumentResponse } from '../document.dto';
import { DocumentIntegrity } from '../document-integrity';
import { BulkFormat, bulkItems } from './bulk-items';
import { BulkCounts, BulkImport, MAX_BULK_ERRORS } from './bulk-import';

export interface BulkImportRequest {
  branch: string;
  format: BulkFormat;
  body: AsyncIterable<Buffer>;
  author: string;
  message?: string;
  /** If-Match on the branch head (its ETag is the head commit id). */
  ifMatch?: TagCondition;
  dryRun: boolean;
}

export interface BulkImportResult extends BulkCounts {
  /** The import's commit; null when it changed nothing (or was a dry run). */
  commit: string | null;
  dryRun: boolean;
}

export interface DocumentExport {
  /** The commit exported (the branch head when the export started, or `at`). */
  commit: string;
  total: number;
  /** NDJSON, one document per line: type by type (referenced types first), by id within a type. */
  lines: AsyncGenerator<string>;
}

/** Documents read per store call while exporting. */
const EXPORT_PAGE = 1_000;

/**
 * Type names in an order where a type comes after the types its references point at (where references
 * form a cycle, the cycle's order is by name): an export in this order imports with no forward
 * references to hold.
 */
export function referencedFirst(types: ObjectTypeDefinition[]): string[] {
  const byName = new Map(types.map((t) => [t.name, t]));
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name) || !byName.has(name)) return;
    seen.add(name);
    for (const p of byName.get(name)!.properties)
      if (p.dataType === 'reference' && p.referenceType) visit(p.referenceType);
    order.push(name);
  };
  for (const name of [...byName.keys()].sort()) visit(name);
  return order;
}

/** Many documents at once: an import is one commit, an export one consistent state. */
@Injectable()
export class BulkService {
  private readonly maxItemBytes: number;

  constructor(
    @Inject(VERSIONED_STORE) private readonly store: VersionedStore,
    private readonly validator: DocumentSchemaValidator,
    private readonly integrity: DocumentIntegrity,
    private readonly cache: ReadThroughCache,
    private readonly config: OmsConfig,
  ) {
    this.maxItemBytes = bytes.parse(config.http.bodyLimit) ?? 1_048_576;
  }

  /**
   * Applies every item in order as ONE commit, or nothing: any invalid item fails the whole import with
   * every error found (the first MAX_BULK_ERRORS), each with its line.
   */
  async import(request: BulkImportRequest): Promise<BulkImportResult> {
    const { branch, ifMatch, dryRun } = request;
    const result = await this.store.write(
      branch,
      { author: request.author, message: request.message ?? 'Bulk import' },
      async (w) => {
        if (ifMatch !== undefined && !strongMatch(ifMatch, w.head)) {
          throw new PreconditionFailed(
            `If-Match does not match the head of branch '${branch}' (ETag ${formatEtag(w.head)}).`,
          );
        }
        const run = new BulkImport(w, branch, this.validator, this.integrity, this.config.http.jsonMaxDepth);
        await run.run(bulkItems(request.body, request.format, this.maxItemBytes));
        if (run.errors.length > 0) {
          const error = new ValidationFailed(
            // Shape errors are found as items arrive, the others per batch: reported in line order.
            [...run.errors].sort((a, b) => a.line - b.line),
            `${run.full ? `At least ${MAX_BULK_ERRORS}` : run.errors.length} error${run.errors.length === 1 ? '' : 's'} in the import; nothing was written.`,
          );
          if (run.full) error.extensions.truncated = true;
          throw error;
        }
        return { ...run.counts, commit: dryRun ? null : w.openedCommit, dryRun };
      },
      { timeoutMs: this.config.http.bulkTimeoutMs, dryRun },
    );
    if (result.commit) await this.cache.purgeBranch(branch);
    return result;
  }

  /** The documents of a branch (optionally of one type), at its head or `at` a commit or tag, as NDJSON. */
  async export(branch: string, objectType?: string, at?: string): Promise<DocumentExport> {
    const commit = at
      ? (await this.store.commitInHistory(branch, at)).id
      : (await this.store.getBranch(branch))?.head;
    if (!commit) throw new NotFound('Branch', branch);
    const { total, types } = await this.store.readAt(branch, commit, async (r) => {
      if (objectType && !(await r.get<ObjectTypeDefinition>('type', objectType)))
        throw new NotFound('Object type', objectType, `on branch '${branch}'`);
      const all = await readTypes(r);
      return {
        total: await r.count('document', { objectType }),
        types: objectType ? [objectType] : referencedFirst(all.map((t) => t.body)),
      };
    });
    const store = this.store;
    async function* lines(): AsyncGenerator<string> {
      for (const type of types) {
        let after: ListPosition | undefined;
        for (;;) {
          const page = await store.readAt(branch, commit!, (r) =>
            r.list<DocumentProperties>('document', {
              objectType: type,
              sort: 'id',
              after,
              limit: EXPORT_PAGE,
            }),
          );
          if (page.length > 0)
            yield page.map((record) => `${JSON.stringify(toDocumentResponse(record))}\n`).join('');
          if (page.length < EXPORT_PAGE) break;
          after = { id: page[page.length - 1]!.id };
        }
      }
    }
    return { commit, total, lines: lines() };
  }
}
