import { Violation, pointerSegment } from '@oms/common';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const MAX_REPORTED = 100;

/**
 * Why a string cannot be stored as it is, or undefined. PostgreSQL text and jsonb hold no NUL, and a lone
 * UTF-16 surrogate is not a character (it has no UTF-8 form): such values are refused, never altered.
 */
export function unstorableText(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain the NUL character (U+0000)';
  if (LONE_SURROGATE.test(text)) return 'must not contain a lone UTF-16 surrogate (not a Unicode character)';
  return undefined;
}

/**
 * Every place in a parsed JSON value that cannot be stored exactly: strings and member names with NUL or
 * lone surrogates, numbers JSON cannot carry (1e400 parses as Infinity), and nesting deeper than
 * maxDepth. Iterative, so it is safe on any depth, and it runs before anything recursive touches the
 * value. Reports at most 100 violations.
 */
export function inspectJson(value: unknown, maxDepth: number, root = ''): Violation[] {
  const violations: Violation[] = [];
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: root, depth: 0 }];
  while (stack.length > 0 && violations.length < MAX_REPORTED) {
    const { value: current, path, depth } = stack.pop()!;
    if (typeof current === 'string') {
      const problem = unstorableText(current);
      if (problem) violations.push({ path, message: problem });
    } else if (typeof current === 'number') {
      if (!Number.isFinite(current)) violations.push({ path, message: 'is too large to be represented' });
    } else if (typeof current === 'object' && current !== null) {
      if (depth >= maxDepth) {
        violations.push({ path, message: `is nested deeper than ${maxDepth} levels` });
        continue;
      }
      if (Array.isArray(current)) {
        for (let i = current.length - 1; i >= 0; i--) {
          stack.push({ value: current[i], path: `${path}/${i}`, depth: depth + 1 });
        }
      } else {
        const entries = Object.entries(current as Record<string, unknown>);
        for (const [key, member] of entries.reverse()) {
          const memberPath = `${path}/${pointerSegment(key)}`;
          const problem = unstorableText(key);
          if (problem) violations.push({ path: memberPath, message: `has a member name that ${problem}` });
          stack.push({ value: member, path: memberPath, depth: depth + 1 });
        }
      }
    }
  }
  return violations;
}

/** Names of Object.prototype's members: as keys of a DTO body they are unknown fields, never data. */
const PROTOTYPE_KEYS = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * Keys named like Object.prototype's members (`constructor`, `__proto__`, `valueOf`…) in the parts of a
 * body that map onto DTO classes. class-transformer skips or mis-assigns them, so whitelisting would never
 * see them: they are reported here as unknown fields instead. `literal` names top-level members whose
 * content is free-form data (kept as sent, not mapped), which are not searched.
 */
export function prototypeKeyViolations(body: unknown, literal: readonly string[] = []): Violation[] {
  const violations: Violation[] = [];
  const stack: { value: unknown; path: string; top: boolean }[] = [{ value: body, path: '', top: true }];
  while (stack.length > 0 && violations.length < MAX_REPORTED) {
    const { value, path, top } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    for (const [key, member] of Object.entries(value)) {
      const memberPath = `${path}/${pointerSegment(key)}`;
      if (!Array.isArray(value) && PROTOTYPE_KEYS.has(key)) {
        violations.push({ path: memberPath, message: 'is not an allowed field' });
      } else if (!(top && literal.includes(key))) {
        stack.push({ value: member, path: memberPath, top: false });
      }
    }
  }
  return violations;
}
