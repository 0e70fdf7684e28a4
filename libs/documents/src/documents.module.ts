import { Module } from '@nestjs/common';
import { SchemasModule } from '@oms/schemas';
import { DocumentsController } from './documents.controller';
import { DocumentIntegrity } from './document-integrity';
import { DocumentsService } from './documents.service';
import { BulkController } from './bulk/bulk.controller';
import { BulkService } from './bulk/bulk.service';

@Module({
  imports: [SchemasModule],
  controllers: [BulkController, DocumentsController],
  providers: [DocumentsService, DocumentIntegrity, BulkService],
  exports: [DocumentIntegrity],
})
export class DocumentsModule {}
