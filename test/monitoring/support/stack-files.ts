import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import {
  ALERT_RULES,
  ALERT_TESTS,
  COMPOSE_FILE,
  DASHBOARD,
  DASHBOARD_PROVIDERS,
  DATASOURCES,
  PROMETHEUS_CONFIG,
  README,
} from './paths';
import { GrafanaDashboard } from './promql';
import { PrometheusConfig, parsePrometheusConfig } from './prometheus-config';

/** Readers for the monitoring stack's files, parsed. */

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface AlertRuleTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: { exp_labels?: Record<string, string> }[];
}

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  env_file?: string | string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  command?: string[] | string;
  depends_on?: string[] | Record<string, unknown>;
}

const yaml = <T>(path: string): T => load(readFileSync(path, 'utf8')) as T;

/** YAML merge keys (`<<: *anchor`), which js-yaml 5 leaves as a plain `<<` key, resolved as compose does. */
function resolveMerges(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolveMerges);
  if (value === null || typeof value !== 'object') return value;
  const own = Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([k]) => k !== '<<')
      .map(([k, v]) => [k, resolveMerges(v)]),
  );
  const merged = (value as Record<string, unknown>)['<<'];
  const bases = (Array.isArray(merged) ? merged : merged ? [merged] : []).map(resolveMerges) as object[];
  return Object.assign({}, ...bases, own) as unknown;
}

export const readAlertRules = (): AlertRule[] =>
  yaml<{ groups: { rules: AlertRule[] }[] }>(ALERT_RULES).groups.flatMap((g) => g.rules);

export const readAlertTests = () =>
  yaml<{ rule_files: string[]; tests: { alert_rule_test?: AlertRuleTest[] }[] }>(ALERT_TESTS);

export const readPrometheusConfigText = (): string => readFileSync(PROMETHEUS_CONFIG, 'utf8');
export const readPrometheusConfig = (): PrometheusConfig => parsePrometheusConfig(readPrometheusConfigText());

export const readDashboard = (): GrafanaDashboard =>
  JSON.parse(readFileSync(DASHBOARD, 'utf8')) as GrafanaDashboard;

export const readDatasources = () =>
  yaml<{ datasources: { name: string; uid: string; type: string; url: string }[] }>(DATASOURCES).datasources;

export const readDashboardProviders = () =>
  yaml<{ providers: { name: string; type: string; options: { path: string } }[] }>(DASHBOARD_PROVIDERS)
    .providers;

export const readComposeServices = (): Record<string, ComposeService> =>
  (resolveMerges(yaml(COMPOSE_FILE)) as { services: Record<string, ComposeService> }).services;

/** A shell line without its trailing `# comment` (one outside quotes) and surrounding blanks. */
const withoutComment = (line: string): string => line.replace(/\s+#[^"']*$/, '').trim();

/** The header comment of the compose file, one entry per line, `#`, indentation and trailing comments removed. */
export const composeHeaderLines = (): string[] =>
  readFileSync(COMPOSE_FILE, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('#'))
    .map((l) => withoutComment(l.replace(/^#\s*/, '')));

export interface ReadmeStackSection {
  text: string;
  /** The first ```bash block, one command per line, trailing `# comments` removed. */
  quickStart: string[];
  /** The services table: service name → the "Host port" cell's mappings ("8090:8090"), [] for "—". */
  services: Record<string, string[]>;
}

export const README_STACK_HEADING = '## Monitoring stack (docker compose)';

export function readReadmeStackSection(): ReadmeStackSection {
  const readme = readFileSync(README, 'utf8');
  const start = readme.indexOf(`\n${README_STACK_HEADING}\n`);
  if (start < 0) throw new Error(`README.md has no "${README_STACK_HEADING}" section`);
  const rest = readme.slice(start + 1);
  const end = rest.indexOf('\n## ', README_STACK_HEADING.length);
  const text = end < 0 ? rest : rest.slice(0, end);
  const [, block] = /```bash\n([\s\S]*?)```/.exec(text) ?? [];
  if (block === undefined) throw new Error('the README stack section has no ```bash block');
  const quickStart = block
    .split('\n')
    .map(withoutComment)
    .filter((l) => l.length > 0);
  const services: Record<string, string[]> = {};
  for (const line of text.split('\n')) {
    const [, service, hostPorts] = /^\|\s*`([a-z0-9-]+)`\s*\|\s*([^|]+?)\s*\|/.exec(line) ?? [];
    if (service === undefined || hostPorts === undefined) continue;
    services[service] =
      hostPorts === '—' ? [] : hostPorts.split(/,\s*/).map((p) => p.replace(/\s*→\s*/, ':').trim());
  }
  return { text, quickStart, services };
}

/** GitHub's heading anchors of a Markdown file. */
export function markdownAnchors(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => /^#{1,6}\s/.test(l))
    .map((l) =>
      l
        .replace(/^#+\s+/, '')
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    );
}
