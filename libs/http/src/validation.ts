import { ArgumentMetadata, PipeTransform, ValidationPipe } from '@nestjs/common';
import {
  BRANCH_NAME_PATTERN,
  DOCUMENT_ID_PATTERN,
  TYPE_NAME_PATTERN,
  USERNAME_PATTERN,
  ValidationFailed,
  Violation,
  inBody,
  pathPointer,
  pointerSegment,
  queryPointer,
  setOwn,
  last,
} from '@oms/common';
import { plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';
import { prototypeKeyViolations } from './input-safety';

/**
 * Names constraints that are independent rules of one policy (a password's): each one broken is reported,
 * since the client must fix them all. Any other value gets one message.
 */
export const POLICY_RULE_PREFIX = 'policy:';

/**
 * Flattens class-validator's tree into one violation per bad value, with JSON-pointer paths relative to the
 * validated object (`/properties/0/name`): a missing member "is required", a present one says the first
 * rule it breaks in the order the DTO declares them (or every policy rule it breaks), and members of an
 * object or array speak for themselves.
 */
export function toViolations(errors: ValidationError[], parent = ''): Violation[] {
  return errors.flatMap((error) => {
    const path = `${parent}/${pointerSegment(error.property)}`;
    const own = messagesOf(error).map((message) => ({ path, message }));
    return [...own, ...toViolations(error.children ?? [], path)];
  });
}

function messagesOf(error: ValidationError): string[] {
  const broken = Object.entries(error.constraints ?? {});
  if (broken.length === 0) return [];
  if (error.value === undefined) return ['is required'];
  const policy = broken.filter(([name]) => name.startsWith(POLICY_RULE_PREFIX));
  // Decorators register bottom-up, so the rule declared first is reported last.
  const chosen = policy.length > 0 ? policy : [last(broken)];
  return chosen.map(([, message]) => stripProperty(message, error));
}

function stripProperty(message: string, error: ValidationError): string {
  // class-validator prefixes messages with the property name; the path already says it.
  return message.startsWith(`${error.property} `) ? message.slice(error.property.length + 1) : message;
}

/**
 * How every DTO is checked: no unknown members. Every rule runs (class-validator's stopAtFirstError would
 * also skip nested members); toViolations keeps one message per value.
 */
export const DTO_RULES = { whitelist: true, forbidNonWhitelisted: true } as const;

class OmsValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if ((metadata.type === 'body' || metadata.type === 'query') && this.toValidate(metadata)) {
      const violations = prototypeKeyViolations(value);
      if (violations.length > 0) throw new ValidationFailed(located(metadata, violations));
    }
    try {
      return await super.transform(value, metadata);
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error;
      throw new ValidationFailed(located(metadata, error.errors));
    }
  }
}

/** Paths point into the request: `/body/...` for a body DTO, `/query/<name>` for a query DTO. */
const located = (metadata: ArgumentMetadata, violations: Violation[]) =>
  metadata.type === 'query' ? violations.map((v) => ({ ...v, path: `/query${v.path}` })) : inBody(violations);

/** The one validation pipe: whitelisting, no unknown fields, all violations reported as a problem. */
export function createValidationPipe(): ValidationPipe {
  return new OmsValidationPipe({
    ...DTO_RULES,
    transform: true,
    // The value tells a missing member ("is required") from a bad one; it is never sent back.
    validationError: { target: false, value: true },
    exceptionFactory: (errors) => new ValidationFailed(toViolations(errors)),
  });
}

/**
 * Validates a body against a DTO class without throwing, for services that add checks of their own
 * (against the store) and must report every violation in one response. `value` may be partly invalid.
 * `literal` names free-form members (a document's `properties`): they reach the service exactly as sent.
 */
export function validateBody<T extends object>(
  type: new () => T,
  body: unknown,
  literal: readonly string[] = [],
): { value: T; violations: Violation[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { value: new type(), violations: [{ path: '', message: 'must be a JSON object' }] };
  }
  const unknown = prototypeKeyViolations(body, literal);
  if (unknown.length > 0) return { value: new type(), violations: unknown };
  // Free-form members bypass class-transformer, which would rebuild them: it drops members named like
  // Object.prototype's (`constructor`, `valueOf`…), fails on some, and turns `__proto__` into a prototype.
  const mapped = Object.fromEntries(Object.entries(body).filter(([key]) => !literal.includes(key)));
  const value = plainToInstance(type, mapped);
  for (const key of literal) {
    if (Object.hasOwn(body, key))
      setOwn(value as Record<string, unknown>, key, (body as Record<string, unknown>)[key]);
  }
  return { value, violations: toViolations(validateSync(value, DTO_RULES)) };
}

/**
 * `?at=`: a commit id (40 lowercase hex digits) or a tag name (branch-name characters, up to 200). The
 * store tells the two apart; a well-formed ref that names nothing is its 404, not a 400.
 */
export const COMMIT_REF_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** Path and query identifiers, by parameter name: one table for every route. */
const IDENTIFIERS = new Map<string, RegExp>([
  ['branch', BRANCH_NAME_PATTERN],
  ['typeName', TYPE_NAME_PATTERN],
  ['objectType', TYPE_NAME_PATTERN],
  ['id', DOCUMENT_ID_PATTERN],
  ['username', USERNAME_PATTERN],
  ['at', COMMIT_REF_PATTERN],
]);

/** Why a value of the named parameter cannot name anything, or undefined (also for names not in the table). */
function identifierProblem(name: string, value: unknown): string | undefined {
  const pattern = IDENTIFIERS.get(name);
  if (!pattern || value === undefined) return undefined;
  if (typeof value !== 'string') return 'must be given once';
  return pattern.test(value) ? undefined : `must match ${pattern.source}`;
}

/**
 * The identifiers of a request: its path parameters, the branch from the path or `?branch=`, and the
 * commit the branch is read at (`?at=`).
 */
export interface RouteIdentifiers {
  /** Absent when the route takes a branch from neither (it then means main). */
  branch?: string;
  typeName?: string;
  id?: string;
  username?: string;
  /** A commit id or tag: the branch as it was then (absent: its head). */
  at?: string;
}

/**
 * A request's identifiers, checked as the pipes will check them, or undefined when one is malformed. For
 * code that runs before the pipes (revalidation): given undefined, it leaves the request to the handler,
 * whose pipe answers 400.
 */
export function routeIdentifiers(request: { params: object; query: object }): RouteIdentifiers | undefined {
  const params = request.params as Record<string, unknown>;
  const query = request.query as Record<string, unknown>;
  const names = Object.keys(params);
  if (names.some((name) => identifierProblem(name, params[name]) !== undefined)) return undefined;
  if (['branch', 'at'].some((name) => identifierProblem(name, query[name]) !== undefined)) return undefined;
  const found = Object.fromEntries(names.map((name) => [name, params[name]])) as RouteIdentifiers;
  return {
    ...found,
    branch: found.branch ?? (query.branch as string | undefined),
    at: query.at as string | undefined,
  };
}

/**
 * Checks every `@Param`/`@Query` named in the table before a handler runs: a value that cannot name
 * anything (wrong shape, repeated, too long) is a 400 naming the parameter, and never reaches the store.
 */
export class IdentifierPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.data === undefined || (metadata.type !== 'param' && metadata.type !== 'query')) return value;
    const problem = identifierProblem(metadata.data, value);
    if (problem) {
      const path = metadata.type === 'param' ? pathPointer(metadata.data) : queryPointer(metadata.data);
      throw new ValidationFailed([{ path, message: problem }]);
    }
    return value;
  }
}
