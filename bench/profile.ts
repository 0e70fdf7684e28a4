/**
 * npm run bench:profile — where a request spends the service's CPU (a cache-hit GET of an object type, or
 * BENCH_PROFILE_TARGET): the built service in production mode, profiled by V8 (through the inspector, started
 * and stopped around the load by bench/lib/profile-preload.js) while 50 connections run for BENCH_SECONDS
 * (5), then the top frames by self time (idle excluded), as a markdown table. Writes
 * bench/results/profile-<target>.json.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { LoadOptions, load } from './lib/load';
import { PERSON_TYPE } from './lib/fixtures';
import { startService } from './lib/service';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const TOP = Number(process.env.BENCH_PROFILE_TOP ?? 25);
const ROOT = join(__dirname, '..');
/**
 * What to profile: `type` (a cached object type, the default), `type-304` (its revalidation with a matching
 * If-None-Match), `document` (one document) or `doc-create` (documents created on one branch).
 */
const TARGETS = ['type', 'type-304', 'document', 'doc-create'] as const;
const TARGET = TARGETS.find((t) => t === process.env.BENCH_PROFILE_TARGET) ?? 'type';
/** Extra variables for the service, as JSON (e.g. {"MEMORY_CACHE_TTL_SECONDS":"0"} for store reads). */
const EXTRA_ENV = JSON.parse(process.env.BENCH_PROFILE_ENV ?? '{}') as Record<string, string>;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Self time per frame (function, file, line), in % of the samples that were not idle. */
export function topFrames(profile: { nodes: ProfileNode[] }, top: number) {
  const self = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const hits = node.hitCount ?? 0;
    if (functionName === '(idle)' || hits === 0) continue;
    const file = url.startsWith('file://') ? relative(ROOT, url.slice(7)) : url || '(native)';
    const key = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + hits);
    total += hits;
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([frame, hits]) => ({ frame, selfPercent: Math.round((hits / total) * 1000) / 10 }));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'oms-profile-'));
  const file = join(dir, 'type-get-hit.cpuprofile');
  const s = await startService(
    { ADMISSION_MODE: 'off', CPU_PROFILE_FILE: file, ...EXTRA_ENV },
    join(__dirname, 'lib', 'profile-preload.js'),
  );
  const auth = { authorization: `Bearer ${s.token}` };
  const created = await fetch(`${s.url}/api/v1/schemas/main/object-types`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify(PERSON_TYPE),
  });
  await fetch(`${s.url}/api/v1/documents/crud`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ objectType: 'Person', id: 'p-1', properties: { name: 'Ada', age: 36 } }),
  });
  const url = {
    type: `${s.url}/api/v1/schemas/main/object-types/Person`,
    'type-304': `${s.url}/api/v1/schemas/main/object-types/Person`,
    document: `${s.url}/api/v1/documents/crud/p-1`,
    'doc-create': `${s.url}/api/v1/documents/crud`,
  }[TARGET];
  const headers = TARGET === 'type-304' ? { ...auth, 'if-none-match': created.headers.get('etag')! } : auth;
  let n = 0;
  const creates: Pick<LoadOptions, 'requests'> = {
    requests: [
      {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        setupRequest: (req) => ({
          ...req,
          body: JSON.stringify({ objectType: 'Person', id: `c-${n++}`, properties: { name: 'n', age: 1 } }),
        }),
      },
    ],
  };
  const options = { url, headers, ...(TARGET === 'doc-create' ? creates : {}) };
  await load({ ...options, durationSeconds: 1 });
  process.kill(s.pid, 'SIGUSR2'); // the profiler starts (bench/lib/profile-preload.js)
  const result = await load({ ...options, durationSeconds: SECONDS, pid: s.pid });
  process.kill(s.pid, 'SIGUSR2'); // … and stops, writing the profile
  for (const until = Date.now() + 10_000; !existsSync(file) && Date.now() < until;)
    await new Promise((resolve) => setTimeout(resolve, 100));
  await new Promise((resolve) => setTimeout(resolve, 500)); // let the write finish
  await s.stop();
  if (process.env.BENCH_PROFILE_KEEP) writeFileSync(process.env.BENCH_PROFILE_KEEP, readFileSync(file));
  const frames = topFrames(JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] }, TOP);
  rmSync(dir, { recursive: true, force: true });
  console.log(`${TARGET}: ${result.reqPerSec} req/s, ${result.cpuMsPerRequest} ms CPU per request\n`);
  console.log('| self % | frame |\n| --- | --- |');
  for (const f of frames) console.log(`| ${f.selfPercent} | \`${f.frame}\` |`);
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(
    join(__dirname, 'results', `profile-${TARGET}.json`),
    `${JSON.stringify({ date: new Date().toISOString(), reqPerSec: result.reqPerSec, cpuMsPerRequest: result.cpuMsPerRequest, frames }, null, 2)}\n`,
  );
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
