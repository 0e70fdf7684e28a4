/** One entry of a validation problem: where (a JSON pointer-like path) and what is wrong. */
export interface Violation {
  path: string;
  message: string;
}

/**
 * What went wrong, in domain terms. The HTTP layer maps each code to a status in one place
 * (the problem filter); libraries below the controllers throw only these.
 */
export type DomainErrorCode =
  | 'validation'
  | 'not-found'
  | 'gone'
  | 'already-exists'
  | 'conflict'
  | 'unique-violation'
  | 'breaking-change'
  | 'precondition-failed'
  | 'precondition-required'
  | 'unauthenticated'
  | 'forbidden'
  | 'unavailable'
  | 'outcome-unknown'
  | 'too-many-requests';

export abstract class DomainError extends Error {
  abstract readonly code: DomainErrorCode;
  /** Extra members of the problem document (RFC 9457 extensions). */
  readonly extensions: Record<string, unknown> = {};

  constructor(
    readonly title: string,
    detail: string,
  ) {
    super(detail);
    this.name = new.target.name;
  }
}

export class ValidationFailed extends DomainError {
  readonly code = 'validation';
  constructor(
    readonly errors: Violation[],
    detail = `The request has ${errors.length} invalid value${errors.length === 1 ? '' : 's'}.`,
  ) {
    super('Validation failed', detail);
    this.extensions.errors = errors;
  }
}

export class NotFound extends DomainError {
  readonly code = 'not-found';
  constructor(resource: string, id: string, where?: string) {
    super(`${resource} not found`, `${resource} '${id}' does not exist${where ? ` ${where}` : ''}.`);
  }
}

/** What was asked for existed once and is gone for good (a feed position older than its retention). */
export class Gone extends DomainError {
  readonly code = 'gone';
  constructor(title: string, detail: string) {
    super(title, detail);
  }
}

export class AlreadyExists extends DomainError {
  readonly code = 'already-exists';
  constructor(resource: string, id: string, where?: string) {
    super(`${resource} already exists`, `${resource} '${id}' already exists${where ? ` ${where}` : ''}.`);
  }
}

/** The request is valid but the current state forbids it (protected branch, resource in use, ...). */
export class StateConflict extends DomainError {
  readonly code = 'conflict';
  constructor(title: string, detail: string, extensions: Record<string, unknown> = {}) {
    super(title, detail);
    Object.assign(this.extensions, extensions);
  }
}

export class UniqueViolation extends DomainError {
  readonly code = 'unique-violation';
  constructor(readonly errors: Violation[]) {
    super('Unique constraint violated', errors.map((e) => e.message).join(' '));
    this.extensions.errors = errors;
  }
}

export interface BreakingChange {
  property: string;
  change: string;
  affectedDocuments: number;
  /** The first few documents it hits, for the reader to look at. */
  sampleDocumentIds: string[];
}

export class SchemaBreakingChange extends DomainError {
  readonly code = 'breaking-change';
  constructor(
    objectType: string,
    readonly changes: BreakingChange[],
  ) {
    super(
      'Breaking schema change',
      `The new definition of '${objectType}' would make existing documents invalid: ` +
        changes.map((c) => `${c.change} (${c.affectedDocuments} document(s))`).join('; ') +
        '.',
    );
    this.extensions.breakingChanges = changes;
  }
}

export class PreconditionFailed extends DomainError {
  readonly code = 'precondition-failed';
  constructor(detail: string, currentVersion?: number) {
    super('Precondition failed', detail);
    if (currentVersion !== undefined) this.extensions.currentVersion = currentVersion;
  }
}

export class PreconditionRequired extends DomainError {
  readonly code = 'precondition-required';
  constructor() {
    super('Precondition required', 'This server requires If-Match on writes: send the ETag you last read.');
  }
}

export class Unauthenticated extends DomainError {
  readonly code = 'unauthenticated';
  constructor(detail = 'A valid bearer token is required.') {
    super('Unauthorized', detail);
  }
}

export class Forbidden extends DomainError {
  readonly code = 'forbidden';
  constructor(detail: string) {
    super('Forbidden', detail);
  }
}

/** The service cannot serve now; retryAfterSeconds tells the client when to try again. */
export class Unavailable extends DomainError {
  readonly code = 'unavailable';
  constructor(
    detail: string,
    readonly retryAfterSeconds: number,
  ) {
    super('Service unavailable', detail);
  }
}

/**
 * A dependency (the store, Redis) failed or did not answer: a connection lost or refused, a timeout, the
 * server out of resources. Only these count against circuit breakers; nothing was changed.
 */
export class DependencyFailed extends Unavailable {
  constructor(
    readonly dependency: string,
    detail: string,
    retryAfterSeconds = 1,
  ) {
    super(detail, retryAfterSeconds);
  }
}

/**
 * A write was sent to the store but its answer was lost (a timeout or a dropped connection after the
 * commit was sent): it may or may not have been applied. The client should read before retrying.
 */
export class OutcomeUnknown extends DomainError {
  readonly code = 'outcome-unknown';
  constructor(
    readonly dependency: string,
    detail: string,
  ) {
    super('Outcome unknown', detail);
  }
}

/** A failure of a dependency rather than an answer: what breakers count and caches distrust. */
export const isDependencyFailure = (error: unknown): error is DependencyFailed | OutcomeUnknown =>
  error instanceof DependencyFailed || error instanceof OutcomeUnknown;

/** The caller made too many attempts (failed logins); retryAfterSeconds tells it when it may try again. */
export class TooManyRequests extends DomainError {
  readonly code = 'too-many-requests';
  constructor(
    detail: string,
    readonly retryAfterSeconds: number,
  ) {
    super('Too many requests', detail);
  }
}
