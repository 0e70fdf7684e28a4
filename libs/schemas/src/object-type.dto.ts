import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { EntityRecord } from '@oms/store';
import {
  DATA_TYPES,
  DataType,
  ObjectTypeDefinition,
  PropertyDefinition,
  TYPE_NAME_PATTERN,
} from './object-type.model';
import { NamesAScalarProperty, PresentIffDataType, UniqueAllowed, enumValuesRule } from './object-type.rules';

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

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000) description?: string;
}

/** Body of POST and PUT: the whole definition. */
export class ObjectTypeDto {
  @ApiProperty({ pattern: TYPE_NAME_PATTERN.source, example: 'Person' })
  @Matches(TYPE_NAME_PATTERN, nameMessage)
  name: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) displayName?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000) description?: string;

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
}

export class ObjectTypeResponseDto {
  @ApiProperty() name: string;
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
    ...(p.description !== undefined && { description: p.description }),
  });
  return {
    name: dto.name,
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
