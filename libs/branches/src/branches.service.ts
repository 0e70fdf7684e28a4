import { Inject, Injectable } from '@nestjs/common';
import { NotFound, last } from '@oms/common';
import { ReadThroughCache } from '@oms/caching';
import { decodeBeforeCursor, encodeBeforeCursor } from '@oms/http';
import { MAIN_BRANCH, VERSIONED_STORE, VersionedStore } from '@oms/store';
import { BranchResponseDto, CommitResponseDto, toBranchResponse, toCommitResponse } from './branch.dto';

export interface CommitPage {
  items: CommitResponseDto[];
  nextCursor: string | null;
}

/** Branches and their history. */
@Injectable()
export class BranchesService {
  constructor(
    @Inject(VERSIONED_STORE) private readonly store: VersionedStore,
    private readonly cache: ReadThroughCache,
  ) {}

  async list(): Promise<BranchResponseDto[]> {
    return (await this.store.listBranches()).map(toBranchResponse);
  }

  async get(name: string): Promise<BranchResponseDto> {
    const branch = await this.store.getBranch(name);
    if (!branch) throw new NotFound('Branch', name);
    return toBranchResponse(branch);
  }

  /** A branch name may have been used before: nothing cached under it can be trusted (here and on create). */
  async create(name: string, from: string = MAIN_BRANCH, author: string): Promise<BranchResponseDto> {
    const branch = await this.store.createBranch(name, from, author);
    await this.cache.purgeBranch(name);
    return toBranchResponse(branch);
  }

  async delete(name: string): Promise<void> {
    await this.store.deleteBranch(name);
    await this.cache.purgeBranch(name);
  }

  async commits(branch: string, limit = 50, cursor?: string): Promise<CommitPage> {
    const before = cursor === undefined ? undefined : decodeBeforeCursor(cursor);
    const commits = await this.store.listCommits(branch, limit + 1, before);
    const page = commits.slice(0, limit);
    const more = commits.length > limit;
    return {
      items: page.map(toCommitResponse),
      nextCursor: more ? encodeBeforeCursor(last(page).seq) : null,
    };
  }
}
