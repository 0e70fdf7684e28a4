import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { StateConflict, Violation, own, setOwn } from '@oms/common';
import { DataType, ObjectTypeDefinition, PropertyDefinition, effective } from './object-type.model';

export type DocumentProperties = Record<string, unknown>;

/** A reference value found in a document, to be checked against the store. */
export interface ReferenceValue {
  path: string;
  id: string;
  referenceType: string;
}

const SCALAR_SCHEMAS: Record<Exclude<DataType, 'enum'>, object> = {
  string: { type: 'string' },
  text: { type: 'string' },
  // A double holds every integer exactly only within ±(2^53 − 1); past that, digits would be lost.
  integer: { type: 'integer', minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER },
  decimal: { type: 'number' },
  boolean: { type: 'boolean' },
  date: { type: 'string', format: 'date' },
  datetime: { type: 'string', format: 'date-time' },
  reference: { type: 'string', minLength: 1 },
  json: {},
};

const FORMAT_MESSAGES: Record<string, string> = {
  date: 'must be a date (YYYY-MM-DD)',
  'date-time': 'must be a date-time with a time zone (RFC 3339)',
  email: 'must be an email address',
  uri: 'must be an absolute URI',
  uuid: 'must be a UUID',
  hostname: 'must be a hostname',
};

/** The value constraints of a property that apply to each value (each item, on an array property). */
const VALUE_CONSTRAINTS = [
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'format',
] as const;

/** A data type's schema; a definition stored before today's types has none (its validator is refused). */
function known(schema: object | undefined, property: PropertyDefinition): object {
  if (!schema) throw new Error(`unknown data type ${String(property.dataType)}`);
  return schema;
}

/** JSON Schema for one value of a property (one item of an array property). */
function scalarSchema(property: PropertyDefinition): Record<string, unknown> {
  const schema: Record<string, unknown> =
    property.dataType === 'enum'
      ? { type: 'string', enum: property.enumValues ?? [] }
      : { ...known(SCALAR_SCHEMAS[property.dataType], property) };
  for (const constraint of VALUE_CONSTRAINTS) {
    const value = property[constraint];
    if (value === undefined) continue;
    // An integer's own bounds stay: a constraint can only narrow them.
    const base = schema[constraint];
    if (constraint === 'minimum' && typeof base === 'number')
      schema.minimum = Math.max(base, value as number);
    else if (constraint === 'maximum' && typeof base === 'number')
      schema.maximum = Math.min(base, value as number);
    else schema[constraint] = value;
  }
  return schema;
}

/** JSON Schema for one property's value: a scalar, or an array of them with its own constraints. */
function propertySchema(property: PropertyDefinition): Record<string, unknown> {
  const scalar = scalarSchema(property);
  if (!property.array) return scalar;
  const { minItems, maxItems, uniqueItems } = property;
  return {
    type: 'array',
    items: scalar,
    ...(minItems !== undefined && { minItems }),
    ...(maxItems !== undefined && { maxItems }),
    ...(uniqueItems && { uniqueItems }),
  };
}

/** JSON Schema for a type's documents' `properties` (once nulls are dropped: see withoutNulls). */
export function toJsonSchema(type: ObjectTypeDefinition): object {
  const properties: Record<string, unknown> = {};
  for (const property of type.properties) setOwn(properties, property.name, propertySchema(property));
  return {
    type: 'object',
    additionalProperties: false,
    required: requiredOf(type),
    properties,
  };
}

const requiredOf = (type: ObjectTypeDefinition): string[] =>
  type.properties.filter((p) => effective(type, p).required).map((p) => p.name);

export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** The `$id` of a branch's JSON Schema, and of one type's. */
export const jsonSchemaId = (branch: string, type?: string): string =>
  `urn:oms:branch:${encodeURIComponent(branch)}:json-schema` +
  (type === undefined ? '' : `:object-type:${type}`);

/**
 * A type's documents' `properties` as JSON Schema 2020-12, as sent (nulls included): a null is an absent
 * property, allowed where the property is optional. Checks that need other documents are only stated.
 */
function exportedSchema(type: ObjectTypeDefinition): Record<string, unknown> {
  const required = requiredOf(type);
  const properties: Record<string, unknown> = {};
  for (const property of type.properties) {
    const schema = {
      ...propertySchema(property),
      ...(property.description && { description: property.description }),
    };
    setOwn(
      properties,
      property.name,
      required.includes(property.name) ? schema : { anyOf: [schema, { type: 'null' }] },
    );
  }
  const comment = crossDocumentRules(type);
  return {
    title: type.displayName ?? type.name,
    ...(type.description && { description: type.description }),
    ...(comment && { $comment: comment }),
    type: 'object',
    additionalProperties: false,
    required,
    properties,
  };
}

/** What OMS checks beyond this schema, in words: references that must resolve, values that must be unique. */
function crossDocumentRules(type: ObjectTypeDefinition): string | undefined {
  const rules = type.properties.flatMap((declared) => {
    const property = effective(type, declared);
    return [
      ...(property.dataType === 'reference'
        ? [`'${property.name}' must name an existing ${property.referenceType} document on the branch`]
        : []),
      ...(property.unique
        ? [`'${property.name}' must be unique among ${type.name} documents on the branch`]
        : []),
    ];
  });
  return rules.length > 0 ? `Also checked by OMS, across documents: ${rules.join('; ')}.` : undefined;
}

/** One object type's documents' `properties` as a JSON Schema 2020-12 document. */
export function typeJsonSchema(branch: string, type: ObjectTypeDefinition): object {
  return { $schema: JSON_SCHEMA_DIALECT, $id: jsonSchemaId(branch, type.name), ...exportedSchema(type) };
}

/** A branch's object types as one JSON Schema 2020-12 document: one `$defs` entry per type. */
export function branchJsonSchema(branch: string, types: ObjectTypeDefinition[]): object {
  const defs: Record<string, unknown> = {};
  for (const type of types) setOwn(defs, type.name, exportedSchema(type));
  return {
    $schema: JSON_SCHEMA_DIALECT,
    $id: jsonSchemaId(branch),
    title: `Object types of branch ${branch}`,
    $comment: "Each entry of $defs validates the 'properties' of one object type's documents.",
    $defs: defs,
  };
}

/** Drops null members: a null property is an absent one (and merge patch uses null to remove). */
export function withoutNulls(properties: DocumentProperties): DocumentProperties {
  return Object.fromEntries(Object.entries(properties).filter(([, v]) => v !== null));
}

function toViolation(error: ErrorObject, type: ObjectTypeDefinition): Violation {
  const base = `/properties${error.instancePath}`;
  switch (error.keyword) {
    case 'required':
      return {
        path: `${base}/${(error.params as { missingProperty: string }).missingProperty}`,
        message: 'is required',
      };
    case 'additionalProperties':
      return {
        path: `${base}/${(error.params as { additionalProperty: string }).additionalProperty}`,
        message: `is not a property of ${type.name}`,
      };
    case 'enum':
      return {
        path: base,
        message: `must be one of: ${(error.params as { allowedValues: string[] }).allowedValues.join(', ')}`,
      };
    case 'format':
      return {
        path: base,
        message: FORMAT_MESSAGES[(error.params as { format: string }).format] ?? error.message!,
      };
    case 'type':
      return { path: base, message: `must be ${describeType(error)}` };
    case 'minLength':
    case 'maxLength':
    case 'minItems':
    case 'maxItems': {
      const { limit } = error.params as { limit: number };
      const least = error.keyword.startsWith('min') ? 'at least' : 'at most';
      const unit = error.keyword.endsWith('Items') ? 'item' : 'character';
      return { path: base, message: `must have ${least} ${limit} ${unit}${limit === 1 ? '' : 's'}` };
    }
    case 'pattern':
      return {
        path: base,
        message: `must match the pattern ${(error.params as { pattern: string }).pattern}`,
      };
    case 'uniqueItems': {
      const { i, j } = error.params as { i: number; j: number };
      return {
        path: base,
        message: `must not repeat an item (items ${Math.min(i, j)} and ${Math.max(i, j)} are equal)`,
      };
    }
    default:
      return { path: base, message: error.message ?? 'is invalid' };
  }
}

function describeType(error: ErrorObject): string {
  const expected = (error.params as { type: string }).type;
  return expected === 'array'
    ? 'an array'
    : expected === 'object'
      ? 'an object'
      : `a${/^[aeiou]/.test(expected) ? 'n' : ''} ${expected}`;
}

/** Validates documents against object types (Ajv, every violation), with compiled validators cached by version. */
export class DocumentSchemaValidator {
  // ownProperties: a property named `valueOf` or `constructor` is looked up on the document itself, never
  // found on Object.prototype.
  private readonly ajv = addFormats(new Ajv({ allErrors: true, strict: true, ownProperties: true }), {
    mode: 'full',
  });
  private readonly compiled = new Map<string, (properties: DocumentProperties) => Violation[]>();
  private readonly scalars = new Map<string, ValidateFunction>();

  /** Structural violations: unknown and missing properties, types, formats, enum values, array shape. */
  validate(type: ObjectTypeDefinition, version: number, properties: DocumentProperties): Violation[] {
    const key = `${type.name}@${version}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      if (this.compiled.size >= 1000) this.compiled.clear();
      validate = this.draft(type);
      this.compiled.set(key, validate);
    }
    return validate(properties);
  }

  /**
   * Why one value is not a valid value of the property (one item, for an array property), or undefined:
   * the same rules as a document's, for filters that must accept exactly what writes accept.
   */
  valueProblem(property: PropertyDefinition, value: unknown): string | undefined {
    const schema = scalarSchema(property);
    const key = JSON.stringify(schema);
    let validate = this.scalars.get(key);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.scalars.set(key, validate);
    }
    if (validate(value)) return undefined;
    const [error] = validate.errors ?? [];
    return error ? toViolation(error, { name: '', properties: [] }).message : 'is not valid';
  }

  /** A validator for a definition (also one not stored yet: a replacement being checked), not cached. */
  draft(type: ObjectTypeDefinition): (properties: DocumentProperties) => Violation[] {
    let validate: ValidateFunction;
    try {
      validate = this.ajv.compile(toJsonSchema(type));
    } catch {
      // Only a definition stored before today's rules could get here: say so, rather than a 500.
      throw new StateConflict(
        'Object type is not usable',
        `The stored definition of '${type.name}' is not valid: replace it (PUT) to use it again.`,
      );
    }
    return (properties) =>
      validate(properties) ? [] : (validate.errors ?? []).map((e) => toViolation(e, type));
  }
}

/** The reference values of a document that need a look-up (structurally valid ones only). */
export function referenceValues(
  type: ObjectTypeDefinition,
  properties: DocumentProperties,
): ReferenceValue[] {
  const found: ReferenceValue[] = [];
  for (const property of type.properties) {
    if (property.dataType !== 'reference' || !property.referenceType) continue;
    for (const { path, value } of valuesOf(property, own(properties, property.name))) {
      if (typeof value === 'string' && value.length > 0) {
        found.push({ path, id: value, referenceType: property.referenceType });
      }
    }
  }
  return found;
}

function valuesOf(property: PropertyDefinition, value: unknown): { path: string; value: unknown }[] {
  const path = `/properties/${property.name}`;
  if (value === undefined) return [];
  if (property.array)
    return Array.isArray(value)
      ? (value as unknown[]).map((v, i) => ({ path: `${path}/${i}`, value: v }))
      : [];
  return [{ path, value }];
}
