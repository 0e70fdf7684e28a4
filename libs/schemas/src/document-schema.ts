import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { StateConflict, Violation, setOwn } from '@oms/common';
import {
  DataType,
  ObjectTypeDefinition,
  PropertyDefinition,
  effective,
  isInterface,
  leaf,
  propertyPaths,
  valuesAt,
} from './object-type.model';

export type DocumentProperties = Record<string, unknown>;

/** A reference value found in a document, to be checked against the store. */
export interface ReferenceValue {
  path: string;
  id: string;
  referenceType: string;
}

const SCALAR_SCHEMAS: Record<Exclude<DataType, 'enum' | 'struct'>, object> = {
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

/** How a struct's members become a schema: inline (the validator), or as a `$ref` to a `$defs` entry (the export). */
type StructSchema = (property: PropertyDefinition) => Record<string, unknown>;

/** JSON Schema for one value of a property (one item of an array property). */
function valueSchema(property: PropertyDefinition, struct: StructSchema): Record<string, unknown> {
  if (property.dataType === 'struct') return struct(property);
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

/**
 * Items ajv cannot compare safely: its deep equality calls an item's own `valueOf` member as a function (a
 * struct member or json key named so crashes it). OMS compares these itself (repeatedItems); the export
 * still says `uniqueItems`, its standard meaning.
 */
const comparedByOms = (property: PropertyDefinition) =>
  property.dataType === 'struct' || property.dataType === 'json';

/** JSON Schema for one property's value: a single value, or an array of them with its own constraints. */
function propertySchema(
  property: PropertyDefinition,
  struct: StructSchema,
  exported = false,
): Record<string, unknown> {
  const item = valueSchema(property, struct);
  if (!property.array) return item;
  const { minItems, maxItems } = property;
  const uniqueItems = property.uniqueItems && (exported || !comparedByOms(property));
  return {
    type: 'array',
    items: item,
    ...(minItems !== undefined && { minItems }),
    ...(maxItems !== undefined && { maxItems }),
    ...(uniqueItems && { uniqueItems }),
  };
}

/** JSON with members in one order, so that equal values compare equal as text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null)
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** The `uniqueItems` violations ajv is not asked to find: arrays of structs and of json values. */
function repeatedItems(type: ObjectTypeDefinition, properties: DocumentProperties): Violation[] {
  const violations: Violation[] = [];
  for (const path of propertyPaths(type.properties)) {
    const property = leaf(path);
    if (!property.array || !property.uniqueItems || !comparedByOms(property)) continue;
    for (const { pointer, value } of valuesAt(path.slice(0, -1), properties)) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
      if (!Object.prototype.hasOwnProperty.call(value, property.name)) continue;
      const items = (value as Record<string, unknown>)[property.name];
      if (!Array.isArray(items)) continue;
      const seen = new Map<string, number>();
      for (const [j, item] of items.entries()) {
        const i = seen.get(canonical(item));
        if (i !== undefined) {
          violations.push({
            path: `${pointer}/${property.name}`,
            message: `must not repeat an item (items ${i} and ${j} are equal)`,
          });
          break;
        }
        seen.set(canonical(item), j);
      }
    }
  }
  return violations;
}

/** A closed object of these members (the type's own, or a struct's), nulls already dropped. */
function objectSchema(members: PropertyDefinition[], required: string[]): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const member of members) setOwn(properties, member.name, propertySchema(member, inlineStruct));
  return { type: 'object', additionalProperties: false, required, properties };
}

/** A struct's schema written in place. */
const inlineStruct: StructSchema = (struct) =>
  objectSchema(struct.properties ?? [], requiredOf(struct.properties ?? []));

/** JSON Schema for a type's documents' `properties` (once nulls are dropped: see withoutNulls). */
export function toJsonSchema(type: ObjectTypeDefinition): object {
  return objectSchema(type.properties, requiredOf(type.properties, type));
}

/** The members that must be present: those declared required (and the type's primary key). */
const requiredOf = (members: PropertyDefinition[], type?: ObjectTypeDefinition): string[] =>
  members.filter((p) => (type ? effective(type, p) : p).required).map((p) => p.name);

export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** The `$id` of a branch's JSON Schema, and of one type's. */
export const jsonSchemaId = (branch: string, type?: string): string =>
  `urn:oms:branch:${encodeURIComponent(branch)}:json-schema` +
  (type === undefined ? '' : `:object-type:${type}`);

/** A member that may be null: null is absent, as OMS reads it. */
const optional = (schema: object) => ({ anyOf: [schema, { type: 'null' }] });

/** A required member: a null is absent, so missing; only a single json value would otherwise take it. */
const present = (member: PropertyDefinition, schema: Record<string, unknown>) =>
  member.dataType === 'json' && !member.array ? { ...schema, not: { type: 'null' } } : schema;

/**
 * Members as sent (nulls included): a null is an absent member, allowed where the member is optional. Each
 * struct becomes a `$defs` entry named by its path (`Person.address`), referred to with `$ref`.
 */
function exportedObject(
  members: PropertyDefinition[],
  required: string[],
  name: string,
  defs: Record<string, unknown>,
): Record<string, unknown> {
  const struct: StructSchema = (property) => {
    const def = `${name}.${property.name}`;
    const members = property.properties ?? [];
    setOwn(defs, def, exportedObject(members, requiredOf(members), def, defs));
    return { $ref: `#/$defs/${encodeURIComponent(def)}` };
  };
  const properties: Record<string, unknown> = {};
  for (const member of members) {
    const schema = {
      ...propertySchema(member, struct, true),
      ...(member.description && { description: member.description }),
    };
    setOwn(
      properties,
      member.name,
      required.includes(member.name) ? present(member, schema) : optional(schema),
    );
  }
  return { type: 'object', additionalProperties: false, required, properties };
}

/** A type's documents' `properties` as exported, with its structs' `$defs`; cross-document checks stated. */
function exportedSchema(type: ObjectTypeDefinition, defs: Record<string, unknown>): Record<string, unknown> {
  const comment = crossDocumentRules(type);
  return {
    title: type.displayName ?? type.name,
    ...(type.description && { description: type.description }),
    ...(comment && { $comment: comment }),
    ...exportedObject(type.properties, requiredOf(type.properties, type), type.name, defs),
    // An interface's documents are its implementers': they may have properties of their own.
    ...(isInterface(type) && { additionalProperties: true }),
  };
}

/** What OMS checks beyond this schema, in words: references that must resolve, values that must be unique. */
function crossDocumentRules(type: ObjectTypeDefinition): string | undefined {
  const rules = propertyPaths(type.properties).flatMap((path) => {
    const property = path.length === 1 ? effective(type, leaf(path)) : leaf(path);
    const name = path.map((p) => p.name).join('.');
    return [
      ...(property.dataType === 'reference'
        ? [`'${name}' must name an existing ${property.referenceType} document on the branch`]
        : []),
      ...(property.unique ? [`'${name}' must be unique among ${type.name} documents on the branch`] : []),
    ];
  });
  return rules.length > 0 ? `Also checked by OMS, across documents: ${rules.join('; ')}.` : undefined;
}

/** One object type's documents' `properties` as a JSON Schema 2020-12 document. */
export function typeJsonSchema(branch: string, type: ObjectTypeDefinition): object {
  const defs: Record<string, unknown> = {};
  const schema = exportedSchema(type, defs);
  return {
    $schema: JSON_SCHEMA_DIALECT,
    $id: jsonSchemaId(branch, type.name),
    ...schema,
    ...(Object.keys(defs).length > 0 && { $defs: defs }),
  };
}

/** A branch's object types as one JSON Schema 2020-12 document: a `$defs` entry per type and per struct. */
export function branchJsonSchema(branch: string, types: ObjectTypeDefinition[]): object {
  const defs: Record<string, unknown> = {};
  for (const type of types) setOwn(defs, type.name, exportedSchema(type, defs));
  return {
    $schema: JSON_SCHEMA_DIALECT,
    $id: jsonSchemaId(branch),
    title: `Object types of branch ${branch}`,
    $comment:
      "Each object type's entry of $defs validates the 'properties' of its documents; entries named " +
      '<type>.<struct>… are their structs.',
    $defs: defs,
  };
}

/**
 * Drops null members: a null property is an absent one (and merge patch uses null to remove), in structs
 * too. A json value is kept as sent, nulls and all.
 */
export function withoutNulls(
  properties: DocumentProperties,
  members: PropertyDefinition[],
): DocumentProperties {
  const kept: DocumentProperties = {};
  for (const [name, value] of Object.entries(properties)) {
    if (value === null) continue;
    const member = members.find((m) => m.name === name);
    const clean = (v: unknown) =>
      typeof v === 'object' && v !== null && !Array.isArray(v)
        ? withoutNulls(v as DocumentProperties, member?.properties ?? [])
        : v;
    const cleaned =
      member?.dataType !== 'struct' ? value : Array.isArray(value) ? value.map(clean) : clean(value);
    setOwn(kept, name, cleaned);
  }
  return kept;
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
        message: error.instancePath ? 'is not a member of the struct' : `is not a property of ${type.name}`,
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
    const schema = valueSchema(property, inlineStruct);
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
    return (properties) => [
      ...(validate(properties) ? [] : (validate.errors ?? []).map((e) => toViolation(e, type))),
      ...repeatedItems(type, properties),
    ];
  }
}

/** The reference values of a document that need a look-up (structurally valid ones only), struct members too. */
export function referenceValues(
  type: ObjectTypeDefinition,
  properties: DocumentProperties,
): ReferenceValue[] {
  const found: ReferenceValue[] = [];
  for (const path of propertyPaths(type.properties)) {
    const property = leaf(path);
    if (property.dataType !== 'reference' || !property.referenceType) continue;
    for (const { pointer, value } of valuesAt(path, properties)) {
      if (typeof value === 'string' && value.length > 0) {
        found.push({ path: pointer, id: value, referenceType: property.referenceType });
      }
    }
  }
  return found;
}
