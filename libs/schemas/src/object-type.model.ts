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
] as const;
export type DataType = (typeof DATA_TYPES)[number];

/** Types whose values can be compared for `unique` and used as a primary key. */
export const SCALAR_TYPES: readonly DataType[] = DATA_TYPES.filter((t) => t !== 'json');

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

export interface PropertyDefinition extends NumberConstraints, StringConstraints, ArrayConstraints {
  name: string;
  dataType: DataType;
  required: boolean;
  array: boolean;
  unique: boolean;
  enumValues?: string[];
  referenceType?: string;
  description?: string;
}

/** An object type as stored: the body of a `type` entity. */
export interface ObjectTypeDefinition {
  name: string;
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

export function referencesTo(type: ObjectTypeDefinition, target: string): PropertyDefinition[] {
  return type.properties.filter((p) => p.dataType === 'reference' && p.referenceType === target);
}
