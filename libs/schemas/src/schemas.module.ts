import { Module } from '@nestjs/common';
import { DocumentSchemaValidator } from './document-schema';
import { JsonSchemaController } from './json-schema.controller';
import { ObjectTypesController } from './object-types.controller';
import { ObjectTypesService } from './object-types.service';
import { PatternSafety } from './pattern-safety';

@Module({
  controllers: [ObjectTypesController, JsonSchemaController],
  providers: [ObjectTypesService, DocumentSchemaValidator, PatternSafety],
  exports: [ObjectTypesService, DocumentSchemaValidator],
})
export class SchemasModule {}
