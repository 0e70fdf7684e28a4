export const DATA_TYPES = [
  'string',
  'text',
  'integer',
  'decimal',
  'boolean',
  'date',
  'datetime',
  'enum',
  'reference',
  'json',
  'struct',
] as const;
export type DataType = (typeof DATA_TYPES)[number];

/** Types whose values can be compared for `unique` and used as a primary key. */
export const SCALAR_TYPES: readonly DataType[] = DATA_TYPES.filter((t) => t !== 'json' && t !== 'struct');

/** How deep structs may nest: a struct property of the type is at depth 1. */
export const MAX_STRUCT_DEPTH = 5;

import type { BranchReader } from '@oms/store';

export { TYPE_NAME_PATTERN } from '@oms/common';

/** The string formats a `format` constraint may name (checked as JSON Schema's, by ajv-formats). */
export const STRING_FORMATS = ['email', 'uri', 'uuid', 'hostname'] as const;
export type StringFormat = (typeof STRING_FORMATS)[number];

/** Bounds on a number (each item's, on an array property). */
export interface NumberConstraints {
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

/** Rules on a string (each item's, on an array property); lengths count characters (code points). */
export interface StringConstraints {
  minLength?: number;
  maxLength?: number;
  /** An ECMAScript regular expression (`u` flag) a value must match somewhere; proven linear when stored. */
  pattern?: string;
  format?: StringFormat;
}

/** Rules on an array property's array as a whole. */
export interface ArrayConstraints {
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
}

/** Every value constraint, with the data types (or `array`) each one fits. */
export const CONSTRAINTS = {
  minimum: 'number',
  maximum: 'number',
  exclusiveMinimum: 'number',
  exclusiveMaximum: 'number',
  minLength: 'string',
  maxLength: 'string',
  pattern: 'string',
  format: 'string',
  minItems: 'array',
  maxItems: 'array',
  uniqueItems: 'array',
} as const satisfies Record<keyof (NumberConstraints & StringConstraints & ArrayConstraints), string>;
export type ConstraintName = keyof typeof CONSTRAINTS;
export const CONSTRAINT_NAMES = Object.keys(CONSTRAINTS) as ConstraintName[];

/** The data types a `number` or `string` constraint fits. */
export const CONSTRAINED_TYPES: Record<'number' | 'string', readonly DataType[]> = {
  number: ['integer', 'decimal'],
  string: ['string', 'text'],
};

/** What deleting a document does to the documents whose reference property points at it. */
export const ON_DELETE = ['restrict', 'cascade', 'nullify'] as const;
export type OnDelete = (typeof ON_DELETE)[number];

export interface PropertyDefinition extends NumberConstraints, StringConstraints, ArrayConstraints {
  name: string;
  dataType: DataType;
  required: boolean;
  array: boolean;
  unique: boolean;
  enumValues?: string[];
  referenceType?: string;
  /** A reference's name seen from its target: `GET …/{target}/links/{inverseName}` lists the referrers. */
  inverseName?: string;
  /** A reference's rule when its target is deleted (absent: restrict). */
  onDelete?: OnDelete;
  /** A struct's members: the same property model, nested. */
  properties?: PropertyDefinition[];
  description?: string;
}

/** What an object type is: a type of documents, or an interface others implement (it holds none). */
export const TYPE_KINDS = ['object', 'interface'] as const;
export type TypeKind = (typeof TYPE_KINDS)[number];

/** An object type as stored: the body of a `type` entity. */
export interface ObjectTypeDefinition {
  name: string;
  /** Absent: `object`. */
  kind?: TypeKind;
  /** The interfaces it implements: it declares each of their properties, compatibly. */
  implements?: string[];
  displayName?: string;
  description?: string;
  /** A property that identifies documents: enforced as required and unique. */
  primaryKey?: string;
  properties: PropertyDefinition[];
}

/** The rules a property actually enforces, with the primary key's implied ones. */
export function effective(type: ObjectTypeDefinition, property: PropertyDefinition): PropertyDefinition {
  if (type.primaryKey !== property.name) return property;
  return { ...property, required: true, unique: true };
}

/**
 * A property with the structs that lead to it, outermost first, itself last: `[address, city]` for the
 * `city` member of the struct property `address`.
 */
export type PropertyPath = PropertyDefinition[];

/** Every property of the type, struct members included, as paths (depth first). */
export function propertyPaths(properties: PropertyDefinition[], parents: PropertyPath = []): PropertyPath[] {
  return properties.flatMap((property) => {
    const path = [...parents, property];
    return [path, ...(property.dataType === 'struct' ? propertyPaths(property.properties ?? [], path) : [])];
  });
}

/** The property a path ends at. */
export const leaf = (path: PropertyPath): PropertyDefinition => path[path.length - 1]!;

/** Whether a path goes through an array of structs (each item its own value: not comparable as one). */
export const throughArray = (path: PropertyPath): boolean => path.slice(0, -1).some((p) => p.array);

/** Every reference to `target` (or to any of several: a type and its interfaces), struct members included. */
export function referencePathsTo(type: ObjectTypeDefinition, target: string | string[]): PropertyPath[] {
  const targets = typeof target === 'string' ? [target] : target;
  return propertyPaths(type.properties).filter(
    (path) => leaf(path).dataType === 'reference' && targets.includes(leaf(path).referenceType ?? ''),
  );
}

/** The JSON containment that matches bodies holding `value` at `path` (in any item of an array on the way). */
export function containmentAt(path: PropertyPath, value: unknown): Record<string, unknown> {
  let inner: unknown = value;
  for (const property of [...path].reverse()) {
    const member: Record<string, unknown> = {};
    Object.defineProperty(member, property.name, {
      value: property.array ? [inner] : inner,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    inner = member;
  }
  return inner as Record<string, unknown>;
}

/** The values a body holds at `path`, each with its JSON Pointer (`/properties/addresses/0/city`). */
export function valuesAt(
  path: PropertyPath,
  body: Record<string, unknown>,
): { pointer: string; value: unknown }[] {
  let found: { pointer: string; value: unknown }[] = [{ pointer: '/properties', value: body }];
  for (const property of path) {
    const next: typeof found = [];
    for (const { pointer, value } of found) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
      if (!Object.prototype.hasOwnProperty.call(value, property.name)) continue;
      const member = (value as Record<string, unknown>)[property.name];
      const at = `${pointer}/${property.name}`;
      if (!property.array) next.push({ pointer: at, value: member });
      else if (Array.isArray(member))
        member.forEach((item, i) => next.push({ pointer: `${at}/${i}`, value: item }));
    }
    found = next;
  }
  return found;
}

/** A reference property that names its inverse, with the type that declares it. */
export interface InverseLink {
  type: string;
  property: PropertyDefinition;
}

/**
 * The inverse links into `target`: reference properties of any of `types` that point at it (or at an
 * interface it implements) and name an inverse.
 */
export function inverseLinks(types: ObjectTypeDefinition[], target: string): InverseLink[] {
  const names = targetNames(types, target);
  return types.flatMap((type) =>
    type.properties
      .filter((p) => p.dataType === 'reference' && names.includes(p.referenceType ?? ''))
      .filter((p) => p.inverseName !== undefined)
      .map((property) => ({ type: type.name, property })),
  );
}

export const isInterface = (type: Pick<ObjectTypeDefinition, 'kind'>): boolean => type.kind === 'interface';

/**
 * The names a reference may point at to reach a document of `objectType`: the type itself and the interfaces
 * it implements (a reference to an interface takes a document of any implementing type).
 */
export function targetNames(types: ObjectTypeDefinition[], objectType: string): string[] {
  const type = types.find((t) => t.name === objectType);
  return [objectType, ...(type?.implements ?? [])];
}

/** The object types that implement an interface. */
export const implementersOf = (types: ObjectTypeDefinition[], name: string): ObjectTypeDefinition[] =>
  types.filter((t) => t.implements?.includes(name));

/**
 * Why a type's property does not conform to an interface's (empty: it does): every value the type accepts
 * must be one the interface accepts.
 */
export function nonConformance(
  iface: PropertyDefinition,
  own: PropertyDefinition,
  at = iface.name,
): string[] {
  const problems: string[] = [];
  if (own.dataType !== iface.dataType) return [`'${at}' must be ${iface.dataType}, not ${own.dataType}`];
  if (own.array !== iface.array) return [`'${at}' must ${iface.array ? '' : 'not '}be an array`];
  if (iface.required && !own.required) problems.push(`'${at}' must be required`);
  if (iface.referenceType !== own.referenceType)
    problems.push(`'${at}' must reference ${iface.referenceType}, not ${own.referenceType}`);
  const extra = (own.enumValues ?? []).filter((v) => !(iface.enumValues ?? []).includes(v));
  if (extra.length > 0) problems.push(`'${at}' has enum values the interface lacks: ${extra.join(', ')}`);
  const lower = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems'] as const;
  const upper = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems'] as const;
  for (const c of lower) {
    const bound = iface[c];
    const mine = own[c];
    if (bound !== undefined && (mine === undefined || mine < bound))
      problems.push(`'${at}' needs ${c} ≥ ${bound}`);
  }
  for (const c of upper) {
    const bound = iface[c];
    const mine = own[c];
    if (bound !== undefined && (mine === undefined || mine > bound))
      problems.push(`'${at}' needs ${c} ≤ ${bound}`);
  }
  for (const c of ['pattern', 'format'] as const)
    if (iface[c] !== undefined && own[c] !== iface[c]) problems.push(`'${at}' needs ${c} ${iface[c]}`);
  if (iface.uniqueItems && !own.uniqueItems) problems.push(`'${at}' needs uniqueItems`);
  if (iface.dataType === 'struct') {
    const mine = own.properties ?? [];
    const theirs = iface.properties ?? [];
    for (const member of theirs) {
      const found = mine.find((m) => m.name === member.name);
      if (!found) problems.push(`'${at}.${member.name}' is missing`);
      else problems.push(...nonConformance(member, found, `${at}.${member.name}`));
    }
    for (const member of mine)
      if (!theirs.some((m) => m.name === member.name))
        problems.push(`'${at}.${member.name}' is not a member of the interface's struct`);
  }
  return problems;
}

/** Why a type does not conform to an interface (empty: it does): each interface property, declared compatibly. */
export function conformance(iface: ObjectTypeDefinition, type: ObjectTypeDefinition): string[] {
  return iface.properties.flatMap((property) => {
    const own = type.properties.find((p) => p.name === property.name);
    return own ? nonConformance(property, effective(type, own)) : [`'${property.name}' is missing`];
  });
}

/** The unique properties of a type (the primary key too), struct members included (never through an array). */
export function uniquePaths(type: ObjectTypeDefinition): PropertyPath[] {
  return propertyPaths(type.properties).filter((path) => {
    const property = path.length === 1 ? effective(type, leaf(path)) : leaf(path);
    return property.unique && !throughArray(path);
  });
}

/** A property path as messages name it: `address.owner`. */
export const pathName = (path: PropertyPath): string => path.map((p) => p.name).join('.');

/** The most object types a read of all of a branch's types returns. */
export const MAX_TYPES = 10_000;

/** Every object type on the reader's branch. */
export const readTypes = (reader: BranchReader) =>
  reader.list<ObjectTypeDefinition>('type', { limit: MAX_TYPES });
