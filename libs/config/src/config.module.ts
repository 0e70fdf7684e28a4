import { DynamicModule, Global, Module } from '@nestjs/common';
import { loadConfig } from './load-config';
import { OmsConfig } from './oms-config';

/** Provides the validated OmsConfig to every module. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: OmsConfig = loadConfig()): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: OmsConfig, useValue: config }],
      exports: [OmsConfig],
    };
  }
}
