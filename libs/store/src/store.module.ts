import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { OmsConfig } from '@oms/config';
import { OpenedStore, openStore } from './open-store';
import { SETTINGS_STORE } from './settings-store';
import { GuardedUserStore, GuardedVersionedStore, STORE_GUARD, StoreGuard } from './store-guard';
import { USER_STORE } from './user-store';
import { EVENT_LOG } from './event-log';
import { WEBHOOK_STORE } from './webhook-store';
import { STORE_OBSERVER, StoreObserver, VERSIONED_STORE } from './versioned-store';

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

/**
 * The versioned store, users and settings on PostgreSQL (DATABASE_URL) or embedded PGlite (DATA_DIR).
 * When a StoreGuard is provided (the resilience layer), every operation runs through it.
 */
@Global()
@Module({
  providers: [
    {
      provide: OPENED_STORE,
      inject: [OmsConfig, { token: STORE_OBSERVER, optional: true }],
      useFactory: async (config: OmsConfig, observer?: StoreObserver) => {
        const store = await openStore(config.store, observer);
        new Logger('Store').log(`store ready on ${store.client.kind}`);
        return store;
      },
    },
    {
      provide: VERSIONED_STORE,
      inject: [OPENED_STORE, { token: STORE_GUARD, optional: true }],
      useFactory: (s: OpenedStore, guard?: StoreGuard) =>
        guard ? new GuardedVersionedStore(s.versioned, guard) : s.versioned,
    },
    {
      provide: USER_STORE,
      inject: [OPENED_STORE, { token: STORE_GUARD, optional: true }],
      useFactory: (s: OpenedStore, guard?: StoreGuard) =>
        guard ? new GuardedUserStore(s.users, guard) : s.users,
    },
    { provide: SETTINGS_STORE, inject: [OPENED_STORE], useFactory: (s: OpenedStore) => s.settings },
    { provide: EVENT_LOG, inject: [OPENED_STORE], useFactory: (s: OpenedStore) => s.events },
    { provide: WEBHOOK_STORE, inject: [OPENED_STORE], useFactory: (s: OpenedStore) => s.webhooks },
    StoreLifecycle,
  ],
  exports: [VERSIONED_STORE, USER_STORE, SETTINGS_STORE, EVENT_LOG, WEBHOOK_STORE],
})
export class StoreModule {}
