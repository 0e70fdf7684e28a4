import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// Relative, to the two files only: globalSetup runs outside Jest's module mapper (no @oms aliases).
/* eslint-disable no-restricted-imports */
import { migrate } from '../../libs/store/src/migrations';
import { PgliteClient } from '../../libs/store/src/pglite-client';
/* eslint-enable no-restricted-imports */

// initdb in PGlite takes seconds; copying a migrated data directory takes a fraction of that.
const TEMPLATE_DIR = join(tmpdir(), `oms-pglite-template-${process.getuid?.() ?? 0}`);
const READY_MARK = join(TEMPLATE_DIR, '.oms-template-ready');

/** Creates (once per machine) a migrated PGlite data directory that tests copy. */
export async function ensurePgliteTemplate(): Promise<void> {
  if (existsSync(READY_MARK)) return;
  rmSync(TEMPLATE_DIR, { recursive: true, force: true });
  const client = await PgliteClient.open(TEMPLATE_DIR);
  await migrate(client);
  await client.close();
  cpSync(join(TEMPLATE_DIR, 'PG_VERSION'), READY_MARK);
}

/** A fresh data directory for one test file; remove it with the returned cleanup. */
export function freshPgliteDir(): { dataDir: string; cleanup: () => void } {
  const dataDir = mkdtempSync(join(tmpdir(), 'oms-test-'));
  cpSync(TEMPLATE_DIR, dataDir, { recursive: true, filter: (src) => !src.endsWith('.oms-template-ready') });
  return { dataDir, cleanup: () => rmSync(dataDir, { recursive: true, force: true }) };
}
