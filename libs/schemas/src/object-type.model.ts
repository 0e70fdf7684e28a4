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

export interface PropertyDefinition {
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
