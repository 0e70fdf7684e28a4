import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { EntityRecord } from '@oms/store';
import {
  CONSTRAINT_NAMES,
  DATA_TYPES,
  DataType,
  MAX_STRUCT_DEPTH,
  ON_DELETE,
  ObjectTypeDefinition,
  OnDelete,
  PropertyDefinition,
  STRING_FORMATS,
  StringFormat,
  TYPE_KINDS,
  TYPE_NAME_PATTERN,
  TypeKind,
} from './object-type.model';
import {
  FitsDataType,
  NamesAScalarProperty,
  NotAbove,
  NullifiableIfOptional,
  OnlyOnReferences,
  PresentIffDataType,
  UniqueAllowed,
  ValidPattern,
  enumValuesRule,
} from './object-type.rules';

const FINITE = { allowNaN: false, allowInfinity: false };
/** The longest pattern accepted: every stored pattern is proven linear first, and proofs grow with it. */
export const MAX_PATTERN_LENGTH = 1000;
const COUNT_LIMIT = 1_000_000_000;

const nameMessage = { message: `must match ${TYPE_NAME_PATTERN.source}` };

export class PropertyDto {
  @ApiProperty({ pattern: TYPE_NAME_PATTERN.source, example: 'email' })
  @Matches(TYPE_NAME_PATTERN, nameMessage)
  name: string;

  @ApiProperty({ enum: DATA_TYPES, example: 'string' })
  @IsIn(DATA_TYPES, { message: `must be one of ${DATA_TYPES.join(', ')}` })
  dataType: DataType;

  @ApiPropertyOptional({ default: false }) @IsOptional() @IsBoolean() required?: boolean;
  @ApiPropertyOptional({ default: false, description: 'Values are arrays of dataType' })
  @IsOptional()
  @IsBoolean()
  array?: boolean;

  @ApiPropertyOptional({
    default: false,
    description: 'No two documents of the type share a value (scalars only)',
  })
  @IsOptional()
  @IsBoolean()
  @UniqueAllowed()
  unique?: boolean;

  @ApiPropertyOptional({ type: [String], description: 'Required iff dataType is enum' })
  @PresentIffDataType('enum', enumValuesRule)
  enumValues?: string[];

  @ApiPropertyOptional({ description: 'Required iff dataType is reference; must exist on the branch' })
  @PresentIffDataType('reference', (v) =>
    typeof v === 'string' && TYPE_NAME_PATTERN.test(v) ? null : `must match ${TYPE_NAME_PATTERN.source}`,
  )
  referenceType?: string;

  @ApiPropertyOptional({
    pattern: TYPE_NAME_PATTERN.source,
    description:
      "reference: the link's name seen from its target (GET /documents/crud/{target}/links/{inverseName}); " +
      "unique among the target type's properties and inverse names",
    example: 'reports',
  })
  @IsOptional()
  @Matches(TYPE_NAME_PATTERN, nameMessage)
  @OnlyOnReferences()
  inverseName?: string;

  @ApiPropertyOptional({
    enum: ON_DELETE,
    default: 'restrict',
    description:
      'reference: when the target is deleted, refuse (restrict: 409), delete this document too (cascade) or ' +
      'remove the reference (nullify), in the same commit',
  })
  @IsOptional()
  @IsIn(ON_DELETE, { message: `must be one of ${ON_DELETE.join(', ')}` })
  @OnlyOnReferences()
  @NullifiableIfOptional()
  onDelete?: OnDelete;

  @ApiPropertyOptional({
    type: () => [PropertyDto],
    description: `struct: its members, the same property model (structs nest at most ${MAX_STRUCT_DEPTH} deep)`,
  })
  // Checked when given, or when a struct needs it: anywhere else its absence is right.
  @ValidateIf((p: PropertyDto) => p.properties !== undefined || p.dataType === 'struct')
  @PresentIffDataType('struct', (v) => (Array.isArray(v) ? null : 'must be an array of properties'))
  @ArrayMaxSize(500)
  @IsObject({ each: true, message: 'each property must be an object' })
  @ArrayUnique((p: { name?: unknown } | null) => p?.name, { message: 'must not repeat a property name' })
  @ValidateNested({ each: true })
  @Type(() => PropertyDto)
  properties?: PropertyDto[];

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000) description?: string;

  @ApiPropertyOptional({ description: 'integer, decimal: the least value allowed' })
  @IsOptional()
  @IsNumber(FINITE)
  @FitsDataType('minimum')
  @NotAbove('maximum')
  minimum?: number;

  @ApiPropertyOptional({ description: 'integer, decimal: the greatest value allowed' })
  @IsOptional()
  @IsNumber(FINITE)
  @FitsDataType('maximum')
  maximum?: number;

  @ApiPropertyOptional({ description: 'integer, decimal: values must be greater than this' })
  @IsOptional()
  @IsNumber(FINITE)
  @FitsDataType('exclusiveMinimum')
  @NotAbove('exclusiveMaximum')
  exclusiveMinimum?: number;

  @ApiPropertyOptional({ description: 'integer, decimal: values must be less than this' })
  @IsOptional()
  @IsNumber(FINITE)
  @FitsDataType('exclusiveMaximum')
  exclusiveMaximum?: number;

  @ApiPropertyOptional({ minimum: 0, description: 'string, text: the fewest characters (code points)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(COUNT_LIMIT)
  @FitsDataType('minLength')
  @NotAbove('maxLength')
  minLength?: number;

  @ApiPropertyOptional({ minimum: 0, description: 'string, text: the most characters (code points)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(COUNT_LIMIT)
  @FitsDataType('maxLength')
  maxLength?: number;

  @ApiPropertyOptional({
    maxLength: MAX_PATTERN_LENGTH,
    description:
      'string, text: an ECMAScript regular expression (u flag) each value must match (anywhere: anchor it ' +
      'with ^ and $ to match the whole value). Refused when it can backtrack super-linearly (ReDoS).',
    example: '^[A-Z]{2}[0-9]{4}$',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_PATTERN_LENGTH)
  @ValidPattern()
  @FitsDataType('pattern')
  pattern?: string;

  @ApiPropertyOptional({ enum: STRING_FORMATS, description: 'string, text: a format each value must have' })
  @IsOptional()
  @IsIn(STRING_FORMATS, { message: `must be one of ${STRING_FORMATS.join(', ')}` })
  @FitsDataType('format')
  format?: StringFormat;

  @ApiPropertyOptional({ minimum: 0, description: 'array properties: the fewest items (cardinality)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(COUNT_LIMIT)
  @FitsDataType('minItems')
  @NotAbove('maxItems')
  minItems?: number;

  @ApiPropertyOptional({ minimum: 0, description: 'array properties: the most items (cardinality)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(COUNT_LIMIT)
  @FitsDataType('maxItems')
  maxItems?: number;

  @ApiPropertyOptional({ description: 'array properties: no two items equal' })
  @IsOptional()
  @IsBoolean()
  @FitsDataType('uniqueItems')
  uniqueItems?: boolean;
}

/** Body of POST and PUT: the whole definition. */
export class ObjectTypeDto {
  @ApiProperty({ pattern: TYPE_NAME_PATTERN.source, example: 'Person' })
  @Matches(TYPE_NAME_PATTERN, nameMessage)
  name: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) displayName?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000) description?: string;

  @ApiPropertyOptional({
    enum: TYPE_KINDS,
    default: 'object',
    description: 'interface: declares properties for others to implement, holds no documents',
  })
  @IsOptional()
  @IsIn(TYPE_KINDS, { message: `must be one of ${TYPE_KINDS.join(', ')}` })
  kind?: TypeKind;

  @ApiPropertyOptional({
    type: [String],
    description: 'Interfaces this type implements: it must declare each of their properties compatibly',
    example: ['Named'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @ArrayUnique({ message: 'must not repeat an interface' })
  @Matches(TYPE_NAME_PATTERN, { each: true, message: `each must match ${TYPE_NAME_PATTERN.source}` })
  implements?: string[];

  @ApiPropertyOptional({
    description: 'A scalar property that identifies documents (enforced required + unique)',
  })
  @IsOptional()
  @IsString()
  @NamesAScalarProperty()
  primaryKey?: string;

  @ApiProperty({ type: [PropertyDto] })
  @IsArray()
  @ArrayMaxSize(500)
  // ValidateNested would look inside a nested array and find nothing wrong: each item must be an object.
  @IsObject({ each: true, message: 'each property must be an object' })
  @ArrayUnique((p: { name?: unknown } | null) => p?.name, { message: 'must not repeat a property name' })
  @ValidateNested({ each: true })
  @Type(() => PropertyDto)
  properties: PropertyDto[];
}

export class PropertyResponseDto extends PropertyDto {
  @ApiProperty() declare required: boolean;
  @ApiProperty() declare array: boolean;
  @ApiProperty() declare unique: boolean;
  @ApiPropertyOptional({ type: () => [PropertyResponseDto] }) declare properties?: PropertyResponseDto[];
}

export class ObjectTypeResponseDto {
  @ApiProperty() name: string;
  @ApiPropertyOptional({ enum: TYPE_KINDS, description: 'Absent: object' }) kind?: TypeKind;
  @ApiPropertyOptional({ type: [String] }) implements?: string[];
  @ApiPropertyOptional() displayName?: string;
  @ApiPropertyOptional() description?: string;
  @ApiPropertyOptional() primaryKey?: string;
  @ApiProperty({ type: [PropertyResponseDto] }) properties: PropertyResponseDto[];
  @ApiProperty({ description: 'Changes on every write; the ETag is derived from it' }) version: number;
  @ApiProperty() createdAt: string;
  @ApiProperty() createdBy: string;
  @ApiProperty() updatedAt: string;
  @ApiProperty() updatedBy: string;
}

export class ObjectTypeListResponseDto {
  @ApiProperty() branch: string;
  @ApiProperty({ type: [ObjectTypeResponseDto] }) items: ObjectTypeResponseDto[];
}

/** The stored form: defaults filled in, absent optionals left out. */
export function toDefinition(dto: ObjectTypeDto): ObjectTypeDefinition {
  const property = (p: PropertyDto): PropertyDefinition => ({
    name: p.name,
    dataType: p.dataType,
    required: p.required ?? false,
    array: p.array ?? false,
    unique: p.unique ?? false,
    ...(p.enumValues !== undefined && { enumValues: p.enumValues }),
    ...(p.referenceType !== undefined && { referenceType: p.referenceType }),
    ...(p.inverseName !== undefined && { inverseName: p.inverseName }),
    ...(p.onDelete !== undefined && { onDelete: p.onDelete }),
    ...(p.properties !== undefined && { properties: p.properties.map(property) }),
    ...(p.description !== undefined && { description: p.description }),
    ...Object.fromEntries(CONSTRAINT_NAMES.filter((c) => p[c] !== undefined).map((c) => [c, p[c]] as const)),
  });
  return {
    name: dto.name,
    ...(dto.kind === 'interface' && { kind: dto.kind }),
    ...(dto.implements !== undefined && dto.implements.length > 0 && { implements: dto.implements }),
    ...(dto.displayName !== undefined && { displayName: dto.displayName }),
    ...(dto.description !== undefined && { description: dto.description }),
    ...(dto.primaryKey !== undefined && { primaryKey: dto.primaryKey }),
    properties: dto.properties.map(property),
  };
}

export function toObjectTypeResponse(record: EntityRecord<ObjectTypeDefinition>): ObjectTypeResponseDto {
  return {
    ...record.body,
    version: record.version,
    createdAt: record.createdAt.toISOString(),
    createdBy: record.createdBy,
    updatedAt: record.updatedAt.toISOString(),
    updatedBy: record.updatedBy,
  };
}
