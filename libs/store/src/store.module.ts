import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { OmsConfig } from '@oms/config';
import { OpenedStore, openStore } from './open-store';
import { SETTINGS_STORE } from './settings-store';
import { USER_STORE } from './user-store';
import { VERSIONED_STORE } from './versioned-store';

const OPENED_STORE = Symbol('OpenedStore');

@Injectable()
class StoreLifecycle implements OnApplicationShutdown {
  private readonly logger = new Logger('Store');
  constructor(@Inject(OPENED_STORE) private readonly store: OpenedStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.client.close();
    this.logger.log('store closed');
  }
}

/** The versioned store, users and settings on PostgreSQL (DATABASE_URL) or embedded PGlite (DATA_DIR). */
@Global()
@Module({
  providers: [
    {
      provide: OPENED_STORE,
      inject: [OmsConfig],
      useFactory: async (config: OmsConfig) => {
        const store = await openStore(config.store);
        new Logger('Store').log(`store ready on ${store.client.kind}`);
        return store;
      },
    },
    { provide: VERSIONED_STORE, inject: [OPENED_STORE], useFactory: (s: OpenedStore) => s.versioned },
    { provide: USER_STORE, inject: [OPENED_STORE], useFactory: (s: OpenedStore) => s.users },
    { provide: SETTINGS_STORE, inject: [OPENED_STORE], useFactory: (s: OpenedStore) => s.settings },
    StoreLifecycle,
  ],
  exports: [VERSIONED_STORE, USER_STORE, SETTINGS_STORE],
})
export class StoreModule {}
