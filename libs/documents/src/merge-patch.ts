import { ValidationFailed, Violation, bodyPointer, inBody, own, setOwn } from '@oms/common';

/**
 * RFC 7396 JSON merge patch: objects merge member by member, null removes a member, anything else
 * replaces. Written here because the algorithm is the RFC's ten lines.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  // Spread copies own members as data (`__proto__` included); reads and writes go through own/setOwn so
  // a member named like Object.prototype's is data, never the prototype.
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else setOwn(result, key, applyMergePatch(own(result, key), value));
  }
  return result;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A patch is an object whose only member is `properties`, itself an object. */
export function checkPatch(patch: unknown): Record<string, unknown> {
  if (!isPlainObject(patch)) {
    throw new ValidationFailed([
      { path: bodyPointer(), message: 'must be a JSON object (a merge patch of the document)' },
    ]);
  }
  const violations: Violation[] = Object.keys(patch)
    .filter((key) => key !== 'properties')
    .map((key) => ({ path: `/${key}`, message: 'cannot be changed; only properties may be patched' }));
  if (patch.properties !== undefined && !isPlainObject(patch.properties)) {
    violations.push({ path: '/properties', message: 'must be an object' });
  }
  if (violations.length > 0) throw new ValidationFailed(inBody(violations));
  return (patch.properties as Record<string, unknown> | undefined) ?? {};
}
