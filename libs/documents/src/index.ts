export * from './document.dto';
export * from './documents.module';
export * from './documents.service';
export * from './document-integrity';
