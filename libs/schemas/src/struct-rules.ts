import { Violation } from '@oms/common';
import { MAX_STRUCT_DEPTH } from './object-type.model';

/** A property as sent, where it sits (its JSON Pointer in the body, without `/body`), and its struct nesting. */
export interface SentProperty {
  pointer: string;
  value: Record<string, unknown>;
  /** How many structs enclose it (0: the type's own). */
  depth: number;
  /** Whether an array of structs encloses it. */
  inArray: boolean;
}

/** Every property sent, struct members included (however malformed their struct: shape is checked elsewhere). */
export function sentProperties(
  properties: unknown,
  pointer = '/properties',
  depth = 0,
  inArray = false,
): SentProperty[] {
  if (!Array.isArray(properties)) return [];
  return properties.flatMap((value: unknown, index) => {
    if (typeof value !== 'object' || value === null) return [];
    const property = value as Record<string, unknown>;
    const at = `${pointer}/${index}`;
    const nested =
      property.dataType === 'struct'
        ? sentProperties(
            property.properties,
            `${at}/properties`,
            depth + 1,
            inArray || property.array === true,
          )
        : [];
    return [{ pointer: at, value: property, depth, inArray }, ...nested];
  });
}

/**
 * What the property model allows at the top only: nesting at most MAX_STRUCT_DEPTH structs deep; inverse
 * names and delete rules on the type's own references (a struct member's reference is `restrict`); `unique`
 * where one value per document is compared (not inside an array of structs).
 */
export function structViolations(sent: SentProperty[]): Violation[] {
  const violations: Violation[] = [];
  for (const { pointer, value, depth, inArray } of sent) {
    if (value.dataType === 'struct' && depth + 1 > MAX_STRUCT_DEPTH)
      violations.push({ path: pointer, message: `nests structs deeper than ${MAX_STRUCT_DEPTH}` });
    if (depth > 0) {
      for (const key of ['inverseName', 'onDelete'])
        if (value[key] !== undefined)
          violations.push({ path: `${pointer}/${key}`, message: 'is not allowed inside a struct' });
    }
    if (inArray && value.unique === true)
      violations.push({
        path: `${pointer}/unique`,
        message: 'is not supported inside an array of structs',
      });
  }
  return violations;
}
