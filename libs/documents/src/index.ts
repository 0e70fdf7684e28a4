export * from './document.dto';
export * from './documents.module';
export * from './documents.service';
export * from './document-integrity';
export { BULK_IMPORT_PATH } from './bulk/bulk.controller';
export * from './bulk/bulk.dto';
