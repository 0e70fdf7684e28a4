import { Module } from '@nestjs/common';
import { DocumentsModule } from '@oms/documents';
import { SchemasModule } from '@oms/schemas';
import { CompareController } from './compare.controller';
import { DocumentHistoryController } from './document-history.controller';
import { HistoryService } from './history.service';
import { MergeCheck } from './merge-check';
import { MergeService } from './merge.service';
import { MergesController } from './merges.controller';
import { TagsController } from './tags.controller';

/** Version control over branches: compare, merge, revert, commits, per-document history, tags. */
@Module({
  imports: [SchemasModule, DocumentsModule],
  controllers: [CompareController, MergesController, TagsController, DocumentHistoryController],
  providers: [HistoryService, MergeService, MergeCheck],
})
export class VersioningModule {}
