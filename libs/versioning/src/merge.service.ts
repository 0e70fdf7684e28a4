import { Inject, Injectable } from '@nestjs/common';
import { PreconditionFailed, StateConflict, ValidationFailed, WriteContext, bodyPointer } from '@oms/common';
import { ReadThroughCache } from '@oms/caching';
import { EntityKind, MergeWriter, VERSIONED_STORE, VersionedStore, sameEntityValue } from '@oms/store';
import { MergeCheck, MergeViolation } from './merge-check';
import { Conflict, MergedEntity, Resolution, mergeEntity, resolve } from './three-way';
import {
  AppliedDto,
  MergeReportDto,
  MergeRequestDto,
  MergeResultDto,
  RevertRequestDto,
} from './versioning.dto';

/** A merge that cannot be made as asked: every open conflict and every broken rule, in one 409. */
export class MergeConflict extends StateConflict {
  constructor(conflicts: Conflict[], violations: MergeViolation[]) {
    super(
      'Merge conflict',
      `The merge has ${conflicts.length} unresolved conflict(s) and would break ${violations.length} rule(s).`,
      { conflicts, violations },
    );
  }
}

interface Plan {
  merged: MergedEntity[];
  conflicts: Conflict[];
  violations: MergeViolation[];
  applied: AppliedDto;
}

export type MergeOutcome =
  { dryRun: true; report: MergeReportDto } | { dryRun: false; result: MergeResultDto };

/** Three-way merges and reverts: the combined value of every changed entity, checked like a normal write. */
@Injectable()
export class MergeService {
  constructor(
    @Inject(VERSIONED_STORE) private readonly store: VersionedStore,
    private readonly check: MergeCheck,
    private readonly cache: ReadThroughCache,
  ) {}

  async merge(target: string, request: MergeRequestDto, ctx: WriteContext): Promise<MergeOutcome> {
    const message = request.message ?? ctx.message ?? `Merge ${request.source} into ${target}`;
    const outcome = await this.store.merge(
      target,
      request.source,
      { author: ctx.author, message },
      async (w): Promise<MergeOutcome> => {
        if (request.expectedTargetHead && request.expectedTargetHead !== w.targetHead)
          throw new PreconditionFailed(
            `The target's head is ${w.targetHead}, not ${request.expectedTargetHead}.`,
          );
        if (request.expectedSourceHead && request.expectedSourceHead !== w.sourceHead)
          throw new PreconditionFailed(
            `The source's head is ${w.sourceHead}, not ${request.expectedSourceHead}.`,
          );
        const plan =
          w.relation === 'diverged'
            ? await this.apply(w, target, request.resolutions ?? [], request.strategy ?? 'fail')
            : await this.fastForwardPlan(w);
        if (request.dryRun) return { dryRun: true, report: this.report(w, plan) };
        this.refuseUnsettled(plan);
        if (w.relation === 'fast-forward') await w.fastForward();
        return { dryRun: false, result: await this.result(w, plan) };
      },
      { dryRun: request.dryRun, fastForward: request.fastForward },
    );
    if (!outcome.dryRun && !outcome.result.upToDate) await this.cache.purgeBranch(target);
    return outcome;
  }

  async revert(branch: string, request: RevertRequestDto, ctx: WriteContext): Promise<MergeResultDto> {
    const result = await this.store.revert(
      branch,
      request.commit,
      { author: ctx.author, message: ctx.message ?? `Revert ${request.commit}` },
      async (w) => {
        const plan = await this.apply(w, branch, request.resolutions ?? [], 'fail');
        this.refuseUnsettled(plan);
        if (plan.applied.schema + plan.applied.documents === 0)
          throw new StateConflict(
            'Nothing to revert',
            `Commit '${request.commit}' changes nothing on '${branch}' now.`,
          );
        return this.result(w, plan, [w.targetHead]);
      },
    );
    await this.cache.purgeBranch(branch);
    return result;
  }

  /**
   * Merges every candidate, settles conflicts, writes each entity whose merged value is not what the target
   * or the merged history already shows (see ThreeWayStates.merged), and checks the result.
   */
  private async apply(
    w: MergeWriter,
    branch: string,
    resolutions: Resolution[],
    strategy: 'fail' | 'ours' | 'theirs',
  ): Promise<Plan> {
    const byId = new Map(resolutions.map((r) => [r.conflictId, r]));
    const merged: MergedEntity[] = [];
    const conflicts: Conflict[] = [];
    const seen = new Set<string>();
    for (const kind of ['type', 'document'] as EntityKind[]) {
      const ids = w.states.candidates.filter((c) => c.kind === kind).map((c) => c.id);
      const writes: Parameters<MergeWriter['writeMany']>[1] = [];
      const [base, ours, theirs, shown] = await Promise.all([
        w.states.base.getMany(kind, ids),
        w.states.ours.getMany(kind, ids),
        w.states.theirs.getMany(kind, ids),
        w.states.merged.getMany(kind, ids),
      ]);
      for (const id of ids) {
        const entity = mergeEntity(
          kind,
          id,
          base.get(id) ?? null,
          ours.get(id) ?? null,
          theirs.get(id) ?? null,
        );
        entity.conflicts.forEach((c) => seen.add(c.id));
        conflicts.push(...resolve(entity, byId, strategy));
        const changed = !sameEntityValue(entity.ours, entity.value);
        // The target's reads and its merged history must both show the merged value.
        if (changed || !sameEntityValue(shown.get(id) ?? null, entity.value))
          writes.push({ id, value: entity.value });
        if (changed) merged.push(entity);
      }
      await w.writeMany(kind, writes);
    }
    const unknown = resolutions.flatMap((r, i) => (seen.has(r.conflictId) ? [] : [i]));
    if (unknown.length > 0) {
      throw new ValidationFailed(
        unknown.map((i) => ({
          path: bodyPointer(`/resolutions/${i}/conflictId`),
          message: 'matches no conflict of this merge',
        })),
      );
    }
    return {
      merged,
      conflicts,
      violations: await this.check.violations(w, branch, merged),
      applied: counts(merged),
    };
  }

  /** A fast-forward changes the target by what the source changed; an up-to-date merge by nothing. */
  private async fastForwardPlan(w: MergeWriter): Promise<Plan> {
    const merged: MergedEntity[] = [];
    if (w.relation === 'fast-forward') {
      for (const { kind, id } of w.states.candidates) {
        const [ours, theirs] = [await w.states.ours.get(kind, id), await w.states.theirs.get(kind, id)];
        const entity = mergeEntity(kind, id, ours, ours, theirs);
        if (!sameEntityValue(entity.ours, entity.value)) merged.push(entity);
      }
    }
    return { merged, conflicts: [], violations: [], applied: counts(merged) };
  }

  private refuseUnsettled(plan: Plan): void {
    if (plan.conflicts.length > 0 || plan.violations.length > 0)
      throw new MergeConflict(plan.conflicts, plan.violations);
  }

  private report(w: MergeWriter, plan: Plan): MergeReportDto {
    return {
      mergeable: plan.conflicts.length === 0 && plan.violations.length === 0,
      fastForward: w.relation === 'fast-forward',
      mergeBase: w.mergeBase,
      conflicts: plan.conflicts,
      violations: plan.violations,
      applied: plan.applied,
    };
  }

  private async result(
    w: MergeWriter,
    plan: Plan,
    parents = [w.targetHead, w.sourceHead],
  ): Promise<MergeResultDto> {
    const upToDate = w.relation === 'up-to-date';
    const fastForward = w.relation === 'fast-forward';
    return {
      commit: upToDate ? w.targetHead : fastForward ? w.sourceHead : await w.open(),
      parents: upToDate || fastForward ? [] : parents,
      fastForward,
      upToDate,
      applied: plan.applied,
    };
  }
}

function counts(merged: MergedEntity[]): AppliedDto {
  return {
    schema: merged.filter((m) => m.kind === 'type').length,
    documents: merged.filter((m) => m.kind === 'document').length,
  };
}
