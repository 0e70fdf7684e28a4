import { Violation } from '@oms/common';
import { ObjectTypeDefinition, conformance, isInterface } from './object-type.model';

/**
 * What an interface may not have (a primary key, interfaces of its own), and what `implements` needs: each
 * name an interface on the branch that the type conforms to, every mismatch named.
 */
export function interfaceViolations(type: ObjectTypeDefinition, others: ObjectTypeDefinition[]): Violation[] {
  const violations: Violation[] = [];
  if (isInterface(type)) {
    if (type.primaryKey !== undefined)
      violations.push({
        path: '/primaryKey',
        message: 'is not allowed on an interface (it holds no documents)',
      });
    if (type.implements !== undefined)
      violations.push({ path: '/implements', message: 'is not allowed on an interface' });
    return violations;
  }
  for (const [index, name] of (type.implements ?? []).entries()) {
    const path = `/implements/${index}`;
    const iface = others.find((t) => t.name === name);
    if (!iface) violations.push({ path, message: `object type '${name}' does not exist on the branch` });
    else if (!isInterface(iface)) violations.push({ path, message: `'${name}' is not an interface` });
    else {
      const problems = conformance(iface, type);
      if (problems.length > 0)
        violations.push({ path, message: `does not conform to ${name}: ${problems.join('; ')}` });
    }
  }
  return violations;
}
