import { ValidationArguments, ValidationOptions, registerDecorator } from 'class-validator';
import { CONSTRAINED_TYPES, CONSTRAINTS, ConstraintName, DataType, SCALAR_TYPES } from './object-type.model';

type Check = (value: unknown, object: Record<string, unknown>) => string | null;

/** A class-validator rule whose message depends on what exactly is wrong. */
function rule(name: string, check: Check, options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown, args: ValidationArguments) =>
          check(value, args.object as Record<string, unknown>) === null,
        defaultMessage: (args?: ValidationArguments) =>
          check(args?.value, (args?.object ?? {}) as Record<string, unknown>) ?? 'is invalid',
      },
    });
}

/** Present exactly when dataType is `dataType`, and then valid by `whenPresent`. */
export function PresentIffDataType(dataType: DataType, whenPresent: (value: unknown) => string | null) {
  return rule(`presentIff_${dataType}`, (value, object) => {
    const expected = object.dataType === dataType;
    if (expected && value === undefined) return `is required when dataType is ${dataType}`;
    if (!expected && value !== undefined) return `is only allowed when dataType is ${dataType}`;
    return value === undefined ? null : whenPresent(value);
  });
}

export const enumValuesRule = (value: unknown): string | null => {
  if (!Array.isArray(value) || value.length === 0) return 'must be a non-empty array of strings';
  if (value.some((v) => typeof v !== 'string' || v.length === 0 || v.length > 256)) {
    return 'must contain only strings of 1 to 256 characters';
  }
  return new Set(value).size === value.length ? null : 'must not repeat a value';
};

/** `unique` only where values compare as scalars. */
export function UniqueAllowed() {
  return rule('uniqueAllowed', (value, object) => {
    if (value !== true) return null;
    if (object.array === true) return 'is not supported on array properties';
    if (!SCALAR_TYPES.includes(object.dataType as DataType))
      return `is not supported for ${String(object.dataType)}`;
    return null;
  });
}

/** primaryKey names one of the type's own scalar, single-valued properties. */
export function NamesAScalarProperty() {
  return rule('namesAScalarProperty', (value, object) => {
    if (value === undefined) return null;
    const properties = Array.isArray(object.properties)
      ? (object.properties as Record<string, unknown>[])
      : [];
    const property = properties.find((p) => p?.name === value);
    if (!property) return 'must name one of the properties';
    if (property.array === true || !SCALAR_TYPES.includes(property.dataType as DataType)) {
      return 'must name a single-valued property that is not json';
    }
    return null;
  });
}

/** A value constraint only where it fits: a number's on integer and decimal, a string's on string and text. */
export function FitsDataType(constraint: ConstraintName) {
  const fits = CONSTRAINTS[constraint];
  return rule(`fits_${constraint}`, (value, object) => {
    if (value === undefined) return null;
    if (fits === 'array')
      return object.array === true ? null : 'is only allowed on array properties (array: true)';
    const types = CONSTRAINED_TYPES[fits];
    return types.includes(object.dataType as DataType)
      ? null
      : `is only allowed when dataType is ${types.join(' or ')}`;
  });
}

/** A lower bound no greater than its upper bound, when both are given. */
export function NotAbove(upper: ConstraintName) {
  return rule(`notAbove_${upper}`, (value, object) => {
    const bound = object[upper];
    return typeof value === 'number' && typeof bound === 'number' && value > bound
      ? `must not be greater than ${upper} (${bound})`
      : null;
  });
}

/** An ECMAScript regular expression as JSON Schema runs it (with the `u` flag). */
export const patternSyntaxRule = (value: unknown): string | null => {
  if (typeof value !== 'string') return 'must be a string';
  try {
    new RegExp(value, 'u');
    return null;
  } catch (error) {
    return `must be a valid regular expression (with the u flag): ${(error as Error).message}`;
  }
};

export function ValidPattern() {
  return rule('validPattern', (value) => (value === undefined ? null : patternSyntaxRule(value)));
}

/** Allowed only on a reference property. */
export function OnlyOnReferences() {
  return rule('onlyOnReferences', (value, object) =>
    value === undefined || object.dataType === 'reference'
      ? null
      : 'is only allowed when dataType is reference',
  );
}

/** `nullify` cannot empty a required single reference: the referrer would become invalid on every delete. */
export function NullifiableIfOptional() {
  return rule('nullifiableIfOptional', (value, object) =>
    value === 'nullify' && object.required === true && object.array !== true
      ? 'cannot be nullify on a required single-valued reference (use cascade or restrict)'
      : null,
  );
}
