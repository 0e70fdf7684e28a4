export * from './document-schema';
export * from './object-type.dto';
export * from './object-type.model';
export * from './object-types.service';
export * from './schemas.module';
export { riskyChanges } from './breaking-changes';
