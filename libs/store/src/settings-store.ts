import { one } from '@oms/common';
import { SqlExecutor } from './sql-client';

/** Small values the service keeps for itself (e.g. the development signing key). */
export interface SettingsStore {
  /** Returns the stored value, storing `make()` first if there is none (first writer wins). */
  getOrCreate(key: string, make: () => string): Promise<string>;
}

export const SETTINGS_STORE = Symbol('SettingsStore');

export class SqlSettingsStore implements SettingsStore {
  constructor(private readonly db: SqlExecutor) {}

  async getOrCreate(key: string, make: () => string): Promise<string> {
    await this.db.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [
      key,
      make(),
    ]);
    const rows = await this.db.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]);
    return one(rows, 'setting').value;
  }
}
