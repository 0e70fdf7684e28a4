import { PreconditionFailed, ValidationFailed, VersionCheck, headerPointer } from '@oms/common';
import type { Request } from 'express';

/** One entity-tag of a conditional header (RFC 9110 §8.8.3). */
export interface EntityTag {
  weak: boolean;
  opaque: string;
}

/** `*`, or a list of tags. */
export type TagCondition = '*' | EntityTag[];

const TAG = /^(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"$/;

/** Parses If-Match / If-None-Match; undefined when absent, a ValidationFailed when malformed. */
export function parseTagCondition(header: string | undefined, name: string): TagCondition | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '*') return '*';
  const tags = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => TAG.exec(part));
  if (tags.length === 0 || tags.some((m) => m === null)) {
    throw new ValidationFailed([
      { path: headerPointer(name), message: 'must be * or a list of entity tags' },
    ]);
  }
  return tags.map((m) => ({ weak: m![1] !== undefined, opaque: m![2] ?? '' }));
}

/** The strong validator we send for a stored version. */
export const formatEtag = (tag: string) => `"${tag}"`;

/** Strong comparison (If-Match): weak tags never match. */
export function strongMatch(condition: TagCondition, current: string | null): boolean {
  if (current === null) return false;
  return condition === '*' || condition.some((t) => !t.weak && t.opaque === current);
}

/** Weak comparison (If-None-Match): the opaque parts match, weak or not. */
export function weakMatch(condition: TagCondition, current: string | null): boolean {
  if (current === null) return false;
  return condition === '*' || condition.some((t) => t.opaque === current);
}

/**
 * The write preconditions of a request as a check on the current version, evaluated in the order of
 * RFC 9110 §13.2.2: If-Match first; If-None-Match only when If-Match is absent.
 */
export function writePrecondition(request: Request): VersionCheck | undefined {
  const ifMatch = parseTagCondition(request.header('if-match'), 'If-Match');
  const ifNoneMatch = parseTagCondition(request.header('if-none-match'), 'If-None-Match');
  if (ifMatch === undefined && ifNoneMatch === undefined) return undefined;
  return (version) => {
    const current = version === null ? null : String(version);
    if (ifMatch !== undefined) {
      if (!strongMatch(ifMatch, current)) {
        throw new PreconditionFailed(
          current === null
            ? 'If-Match was sent but the resource does not exist.'
            : `If-Match does not match the current ETag ${formatEtag(current)}.`,
          version ?? undefined,
        );
      }
    } else if (ifNoneMatch !== undefined && weakMatch(ifNoneMatch, current)) {
      throw new PreconditionFailed(
        ifNoneMatch === '*'
          ? 'If-None-Match: * was sent but the resource exists.'
          : 'If-None-Match matches the current ETag.',
        version ?? undefined,
      );
    }
  };
}
