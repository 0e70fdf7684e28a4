export * from './versioning.module';
export * from './versioning.dto';
export * from './three-way';
