import { Module } from '@nestjs/common';
import { SchemasModule } from '@oms/schemas';
import { DocumentsController } from './documents.controller';
import { DocumentIntegrity } from './document-integrity';
import { DocumentsService } from './documents.service';

@Module({
  imports: [SchemasModule],
  controllers: [DocumentsController],
  providers: [DocumentsService, DocumentIntegrity],
  exports: [DocumentIntegrity],
})
export class DocumentsModule {}
