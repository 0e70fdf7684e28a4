export * from './auth.decorators';
export * from './auth.module';
export * from './password-hasher';
export * from './password-policy';
export * from './roles';
export * from './token.service';
export * from './write-context.decorator';
