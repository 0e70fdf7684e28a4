import { Violation } from '@oms/common';
import { ObjectTypeDefinition, inverseLinks } from './object-type.model';

/** A property of a definition being written, as sent (checked for shape elsewhere). */
interface SentProperty {
  name?: unknown;
  dataType?: unknown;
  referenceType?: unknown;
  inverseName?: unknown;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Inverse names must be unique among their target type's property names and the inverse names pointing at
 * it, so that `links/{name}` names one thing. Checked both ways: this definition's inverse names against
 * their targets, and its property names against the inverse names other types point at it.
 */
export function linkNameViolations(
  name: string,
  sent: unknown[],
  others: ObjectTypeDefinition[],
  primaryKey?: string,
): Violation[] {
  const properties = sent.map((p) => (typeof p === 'object' && p !== null ? (p as SentProperty) : {}));
  const own = properties.map((p) => text(p.name)).filter((n): n is string => n !== undefined);
  const violations: Violation[] = [];
  const claimed = new Map<string, string>(); // `${target}/${name}` -> who claims it, among this definition's
  for (const [index, property] of properties.entries()) {
    const inverse = text(property.inverseName);
    const target = text(property.referenceType);
    if (inverse === undefined || target === undefined || property.dataType !== 'reference') continue;
    const path = `/properties/${index}/inverseName`;
    const targetProperties =
      target === name ? own : others.find((t) => t.name === target)?.properties.map((p) => p.name);
    const pointing = inverseLinks(others, target).filter((l) => l.type !== name);
    const clash =
      (targetProperties?.includes(inverse) && `a property of ${target}`) ||
      (pointing.some((l) => l.property.inverseName === inverse) && `already an inverse name of ${target}`) ||
      (claimed.has(`${target}/${inverse}`) &&
        `already the inverse name of '${claimed.get(`${target}/${inverse}`)}'`);
    if (clash) violations.push({ path, message: `'${inverse}' is ${clash}` });
    claimed.set(`${target}/${inverse}`, text(property.name) ?? String(index));
  }
  const into = inverseLinks(others, name).filter((l) => l.type !== name);
  for (const [index, property] of properties.entries()) {
    const link = into.find((l) => l.property.inverseName === text(property.name));
    if (link)
      violations.push({
        path: `/properties/${index}/name`,
        message: `'${link.property.inverseName}' is the inverse name of ${link.type}.${link.property.name}`,
      });
  }
  const key = properties.find((p) => text(p.name) === primaryKey && primaryKey !== undefined);
  if (key?.dataType === 'reference' && (key as { onDelete?: unknown }).onDelete === 'nullify')
    violations.push({
      path: `/properties/${properties.indexOf(key)}/onDelete`,
      message: 'cannot be nullify on the primary key (it is required)',
    });
  return violations;
}
