import { Injectable } from '@nestjs/common';
import { check } from 'recheck';

/** How long a pattern's proof may take; a pattern not proven linear by then is refused. */
const PROOF_TIMEOUT_MS = 2_000;
/** Verdicts kept (a definition is often sent again unchanged, with the same patterns). */
const REMEMBERED = 1_000;

/**
 * Whether a `pattern` may be stored: only one that cannot backtrack super-linearly on any input, as proven
 * by recheck (an automaton-based ReDoS checker). Documents are then checked with it by ajv, unbounded.
 */
@Injectable()
export class PatternSafety {
  private readonly verdicts = new Map<string, string | null>();

  /** Why the pattern is refused, or null when it is safe. The pattern must already compile with `u`. */
  async problem(pattern: string): Promise<string | null> {
    const known = this.verdicts.get(pattern);
    if (known !== undefined) return known;
    const verdict = await this.prove(pattern);
    if (this.verdicts.size >= REMEMBERED) this.verdicts.clear();
    this.verdicts.set(pattern, verdict);
    return verdict;
  }

  private async prove(pattern: string): Promise<string | null> {
    const diagnostics = await check(pattern, 'u', {
      timeout: PROOF_TIMEOUT_MS,
      // A proof, not a fuzzer's guess: what the automaton checker cannot decide (back-references) is refused.
      checker: 'automaton',
    });
    switch (diagnostics.status) {
      case 'safe':
        return null;
      case 'vulnerable':
        return (
          `can backtrack super-linearly (${diagnostics.complexity.summary}, e.g. on ` +
          `${diagnostics.attack.pattern}): rewrite it without nested or overlapping repetition`
        );
      case 'unknown':
        return `could not be proven free of super-linear backtracking (${diagnostics.error.kind}): simplify it`;
    }
  }
}
