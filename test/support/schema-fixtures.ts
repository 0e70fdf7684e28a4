import type { DataType, PropertyDefinition } from '@oms/schemas';

/** A property as stored: every flag given, false unless `rest` says otherwise. */
export const prop = (
  name: string,
  dataType: DataType,
  rest: Partial<PropertyDefinition> = {},
): PropertyDefinition => ({
  name,
  dataType,
  required: false,
  array: false,
  unique: false,
  ...rest,
});
