import { DynamicModule, Module } from '@nestjs/common';
import { OmsConfig } from '@oms/config';
import { FaultsController } from './faults.controller';
import { ResilienceController } from './resilience.controller';

/** Operator endpoints: the resilience view and breaker resets, and (when enabled) fault injection. */
@Module({})
export class AdminModule {
  static forConfig(config: OmsConfig): DynamicModule {
    return {
      module: AdminModule,
      controllers: [ResilienceController, ...(config.faultInjection.enabled ? [FaultsController] : [])],
    };
  }
}
