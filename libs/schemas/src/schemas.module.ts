import { Module } from '@nestjs/common';
import { DocumentSchemaValidator } from './document-schema';
import { ObjectTypesController } from './object-types.controller';
import { ObjectTypesService } from './object-types.service';

@Module({
  controllers: [ObjectTypesController],
  providers: [ObjectTypesService, DocumentSchemaValidator],
  exports: [ObjectTypesService, DocumentSchemaValidator],
})
export class SchemasModule {}
