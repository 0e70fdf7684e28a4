import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgliteClient, migrate } from '@oms/store';

/** Every file and folder under dir with its permission bits. */
function modes(dir: string): { path: string; mode: number; folder: boolean }[] {
  const found: { path: string; mode: number; folder: boolean }[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    found.push({ path, mode: statSync(path).mode & 0o777, folder: entry.isDirectory() });
  }
  return found;
}

describe('the embedded store data directory', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'oms-perm-')), 'data');
  afterAll(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('is readable by its owner only: folders 0700, files 0600, while open and after closing', async () => {
    const client = await PgliteClient.open(dir);
    await migrate(client);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const open = modes(dir);
    expect(open.length).toBeGreaterThan(10);
    expect(open.filter((f) => f.folder && f.mode !== 0o700)).toEqual([]);
    // Files PGlite makes while open sit inside 0700 folders; those there at open are 0600 already.
    await client.close();
    const closed = modes(dir);
    expect(closed.filter((f) => f.folder && f.mode !== 0o700)).toEqual([]);
    expect(closed.filter((f) => !f.folder && f.mode !== 0o600)).toEqual([]);
  });
});
