import { DynamicModule, Module } from '@nestjs/common';
import { AdminModule } from '@oms/admin';
import { AuthModule } from '@oms/auth';
import { BranchesModule } from '@oms/branches';
import { CachingModule } from '@oms/caching';
import { ConfigModule, OmsConfig } from '@oms/config';
import { DocumentsModule } from '@oms/documents';
import { FeedModule } from '@oms/feed';
import { HealthModule } from '@oms/health';
import { MetricsModule } from '@oms/metrics';
import { ResilienceModule } from '@oms/resilience';
import { SchemasModule } from '@oms/schemas';
import { StoreModule } from '@oms/store';
import { VersioningModule } from '@oms/versioning';
import { WebhooksModule } from '@oms/webhooks';

/** The OMS process: one module per capability, wired by dependency injection. */
@Module({})
export class AppModule {
  static forConfig(config: OmsConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        MetricsModule,
        ResilienceModule.forRoot(),
        CachingModule,
        StoreModule,
        AuthModule,
        HealthModule,
        BranchesModule,
        SchemasModule,
        DocumentsModule,
        VersioningModule,
        FeedModule,
        WebhooksModule,
        AdminModule.forConfig(config),
      ],
    };
  }
}
