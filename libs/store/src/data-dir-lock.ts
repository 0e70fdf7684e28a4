import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/** Another live process holds the embedded store's data directory. */
export class DataDirectoryInUse extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `The data directory ${dataDir} is in use by process ${pid}. The embedded store (PGlite) is ` +
        `single-process: stop that process first, or use DATABASE_URL for a shared PostgreSQL.`,
    );
    this.name = 'DataDirectoryInUse';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data directory for this process with a pid file. A lock left by a crashed process
 * (its pid no longer alive) is taken over, so a restart after kill -9 needs no manual step.
 * Returns the release function.
 */
export function lockDataDirectory(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lockPath = join(dataDir, 'oms.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
        throw new DataDirectoryInUse(dataDir, holder);
      }
      rmSync(lockPath, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`Could not lock ${dataDir}`);
}

/**
 * The data directory is the database: 0700 for it and every folder in it, 0600 for its files (PGlite
 * writes its files world-readable). Run on open and on close; files made in between sit inside a 0700
 * folder, which no other user can enter.
 */
export function restrictDataDirectory(dataDir: string): void {
  const folders = [dataDir];
  while (folders.length > 0) {
    const folder = folders.pop()!;
    chmodSync(folder, 0o700);
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) folders.push(path);
      else if (entry.isFile()) chmodSync(path, 0o600);
    }
  }
}
