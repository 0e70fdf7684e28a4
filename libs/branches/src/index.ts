export * from './branch.dto';
export * from './branches.module';
export * from './branches.service';
