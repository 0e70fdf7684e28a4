import { SqlExecutor } from './sql-client';
import { LockedBranch, MergeParent, SqlBranchWriter } from './sql-branch-writer';
import { ViewSegment } from './view';
import { CommitInfo, MergeWriter, StoreObserver, ThreeWayStates } from './versioned-store';

export interface MergeFacts {
  relation: MergeWriter['relation'];
  targetHead: string;
  sourceHead: string;
  mergeBase: string;
  states: ThreeWayStates;
  fastForward: () => Promise<void>;
}

/** A write that is a merge or a revert: the three states it combines, and the way to fast-forward. */
export class SqlMergeWriter extends SqlBranchWriter implements MergeWriter {
  readonly relation: MergeWriter['relation'];
  readonly targetHead: string;
  readonly sourceHead: string;
  readonly mergeBase: string;
  readonly states: ThreeWayStates;
  private readonly moveHead: () => Promise<void>;

  constructor(
    db: SqlExecutor,
    view: ViewSegment[],
    branch: LockedBranch,
    info: CommitInfo,
    observer: StoreObserver,
    merged: MergeParent | undefined,
    facts: MergeFacts,
  ) {
    super(db, view, branch, info, observer, merged);
    this.relation = facts.relation;
    this.targetHead = facts.targetHead;
    this.sourceHead = facts.sourceHead;
    this.mergeBase = facts.mergeBase;
    this.states = facts.states;
    this.moveHead = facts.fastForward;
  }

  async open(): Promise<string> {
    return (await this.openCommit()).id;
  }

  async fastForward(): Promise<void> {
    if (this.relation !== 'fast-forward') throw new Error(`cannot fast-forward a ${this.relation} merge`);
    await this.moveHead();
  }
}
