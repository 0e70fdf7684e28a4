import { Module } from '@nestjs/common';
import { SchemasModule } from '@oms/schemas';
import { DocumentsController } from './documents.controller';
import { DocumentIntegrity } from './document-integrity';
import { DocumentsService } from './documents.service';
import { BulkController } from './bulk/bulk.controller';
import { BulkService } from './bulk/bulk.service';
import { LinksController } from './links/links.controller';
import { LinksService } from './links/links.service';

@Module({
  imports: [SchemasModule],
  controllers: [BulkController, DocumentsController, LinksController],
  providers: [DocumentsService, DocumentIntegrity, BulkService, LinksService],
  exports: [DocumentIntegrity],
})
export class DocumentsModule {}
