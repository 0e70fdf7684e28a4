/**
 * The monitoring stack's files agree with each other, with the README and with the real tools:
 * compose ↔ Prometheus ↔ Grafana wiring, the dashboard covers what issue 5 asks, every alert follows the
 * shape rule and has a runbook and a firing and a not-firing unit test; then promtool and Debian's
 * docker-compose 1.29 validate the files (those parts need the binaries, see support/tools.ts).
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import { load } from 'js-yaml';
import {
  ALERT_RULES,
  ALERT_TESTS,
  DOCKER_DIR,
  PROMETHEUS_CONFIG,
  PROMETHEUS_DIR,
  ROOT,
} from './support/paths';
import {
  alertSignals,
  allValues,
  dashboardPanels,
  dashboardQueries,
  labelValuesQuery,
} from './support/promql';
import { scrapeTargets } from './support/prometheus-config';
import {
  ComposeService,
  README_STACK_HEADING,
  composeHeaderLines,
  markdownAnchors,
  readAlertRules,
  readAlertTests,
  readComposeServices,
  readDashboard,
  readDashboardProviders,
  readDatasources,
  readPrometheusConfig,
  readReadmeStackSection,
} from './support/stack-files';
import { requireTools, runTool } from './support/tools';
import { defined, first } from '../support/one';

const services = readComposeServices();
const dashboard = readDashboard();
const rules = readAlertRules();

/** "HOST:CONTAINER[:ro]" volume entries of a service, as [host, container]. */
const volumes = (service: ComposeService) => (service.volumes ?? []).map((v) => v.split(':').slice(0, 2));

/** The compose service `name`, which the test expects docker-compose.yml to declare. */
const composeService = (name: string) => defined(services[name], `docker-compose.yml to declare ${name}`);

describe('compose, Prometheus and Grafana wiring', () => {
  it('runs the services issue 5 asks for: two OMS replicas built from docker/Dockerfile, and the stack', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['grafana', 'oms-1', 'oms-2', 'postgres', 'prometheus', 'redis', 'redis-exporter'].sort(),
    );
    for (const name of ['oms-1', 'oms-2']) {
      const oms = composeService(name);
      expect(oms.build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
      expect(existsSync(join(DOCKER_DIR, '..', oms.build!.dockerfile!))).toBe(true);
      expect(oms.env_file).toBe('../.env');
      expect(oms.environment).toMatchObject({
        REDIS_URL: 'redis://redis:6379',
        DATABASE_URL: expect.stringMatching(/^postgres:\/\/.*@postgres:5432\//),
      });
    }
    expect(composeService('redis').ports).toEqual(['6381:6379']);
    expect(composeService('redis-exporter').image).toMatch(/^oliver006\/redis_exporter:/);
    expect(composeService('redis-exporter').environment?.REDIS_ADDR).toBe('redis://redis:6379');
  });

  it('scrapes every OMS replica on its METRICS_PORT, and redis_exporter, by compose service name', () => {
    const targets = scrapeTargets(readPrometheusConfig());
    const oms = targets.filter((t) => t.job === 'oms').map((t) => t.target);
    expect(oms).toEqual(['oms-1', 'oms-2'].map((s) => `${s}:${composeService(s).environment!.METRICS_PORT}`));
    // Metrics bind to loopback unless told otherwise: in compose, Prometheus comes over the network.
    for (const s of ['oms-1', 'oms-2']) expect(composeService(s).environment!.METRICS_HOST).toBe('0.0.0.0');
    expect(targets.filter((t) => t.job === 'redis').map((t) => t.target)).toEqual(['redis-exporter:9121']);
    for (const { target } of targets) {
      const [host = ''] = target.split(':');
      expect([target, host === 'localhost' || host in services]).toEqual([target, true]);
    }
  });

  it('gives Prometheus this directory, with its config file and every rule file it loads', () => {
    const prometheus = composeService('prometheus');
    const mount = volumes(prometheus).find(([host]) => host === './prometheus');
    expect(mount).toBeDefined();
    const mountedAt = defined(mount![1], 'the container path ./prometheus is mounted at');
    const configInContainer = (prometheus.command as string[]).find((a) => a.startsWith('--config.file='));
    expect(configInContainer).toBe(`--config.file=${posix.join(mountedAt, 'prometheus.yml')}`);
    const ruleFiles = readPrometheusConfig().rule_files ?? [];
    expect(ruleFiles).toEqual(['alerts.yml']);
    for (const file of ruleFiles) expect(existsSync(join(dirname(PROMETHEUS_CONFIG), file))).toBe(true);
  });

  it('provisions Grafana with the Prometheus service as datasource and the dashboard directory', () => {
    const grafana = volumes(composeService('grafana'));
    expect(grafana).toContainEqual(['./grafana/provisioning', '/etc/grafana/provisioning']);
    const dashboardsMount = grafana.find(([host]) => host === './grafana/dashboards');
    expect(dashboardsMount).toBeDefined();
    expect(readDashboardProviders().map((p) => p.options.path)).toEqual([dashboardsMount![1]]);
    const datasource = first(readDatasources(), 'Grafana datasource');
    expect(datasource.type).toBe('prometheus');
    expect(new URL(datasource.url).hostname in services).toBe(true);
    expect(composeService('grafana').environment).toMatchObject({
      GF_SECURITY_ADMIN_USER: '${GRAFANA_ADMIN_USER:-admin}',
      GF_SECURITY_ADMIN_PASSWORD: '${GRAFANA_ADMIN_PASSWORD:-admin}',
    });
  });
});

describe('the OMS Resilience Dashboard', () => {
  const panels = dashboardPanels(dashboard);
  const queries = dashboardQueries(dashboard);
  const exprs = queries.map((q) => q.expr);

  it('is titled as the seed names it and queries the provisioned datasource from every panel', () => {
    expect(dashboard.title).toBe('OMS Resilience Dashboard');
    const uid = first(readDatasources(), 'Grafana datasource').uid;
    for (const panel of panels) {
      expect([panel.title, panel.datasource?.uid, (panel.targets ?? []).length > 0]).toEqual([
        panel.title,
        uid,
        true,
      ]);
      for (const t of panel.targets!)
        expect([panel.title, t.datasource?.uid, t.expr?.trim()]).toEqual([
          panel.title,
          uid,
          expect.stringMatching(/\S/),
        ]);
    }
    expect(new Set(panels.map((p) => p.title)).size).toBe(panels.length);
  });

  it.each([
    ['breaker state per breaker', /by \([^)]*breaker[^)]*\) \(circuit_breaker_state\{/],
    ['304 ratio', /etag_cache_hits_total[\s\S]*etag_cache_misses_total/],
    ['cache hit ratio per tier', /by \(tier\) \(rate\(cache_requests_total\{[^}]*result="hit"/],
    ['Redis keyspace hit ratio', /redis_keyspace_hits_total[\s\S]*redis_keyspace_misses_total/],
    ['bulkhead queue', /backpressure_queue_size/],
    ['bulkhead active', /backpressure_active_requests/],
    ['bulkhead rejected', /backpressure_rejected_total/],
    ['admission limit', /admission_limit/],
    ['admission in flight', /admission_inflight/],
    ['admission rejected', /by \(instance, reason\) \(rate\(admission_rejected_total\{/],
    ['event-loop delay met by requests', /event_loop_delay_seconds/],
    ['request rate per route', /^sum by \(route\) \(rate\(http_request_duration_seconds_count\{[^}]*\}/],
    [
      '5xx rate per route',
      /by \(route[^)]*\) \(rate\(http_request_duration_seconds_count\{[^}]*status_code=~"5\.\."/,
    ],
    ['p50 latency per route', /histogram_quantile\(0\.5, sum by \(route, le\)/],
    ['p95 latency per route', /histogram_quantile\(0\.95, sum by \(route, le\)/],
    ['p99 latency per route', /histogram_quantile\(0\.99, sum by \(route, le\)/],
    ['event-loop lag', /nodejs_eventloop_lag_seconds/],
    ['heap', /nodejs_heap_size_used_bytes/],
  ])('shows %s', (_what, pattern) => {
    expect(exprs.filter((e) => pattern.test(e))).not.toHaveLength(0);
  });

  it('uses only its own variables (with an "All" value) and Grafana built-ins', () => {
    expect(allValues(dashboard)).toEqual({ instance: '.*' });
    expect(labelValuesQuery(first(dashboard.templating.list, 'dashboard variable'))).toEqual({
      selector: 'up{job="oms"}',
      label: 'instance',
    });
    for (const q of queries) expect(q.promql).not.toContain('$');
  });
});

describe('the alert rules', () => {
  const names = rules.map((r) => r.alert);

  it('cover what issue 5 asks for', () => {
    for (const [alert, metric] of [
      ['OmsCircuitBreakerOpen', 'circuit_breaker_state'],
      ['OmsSustainedShedding', 'backpressure_rejected_total'],
      ['OmsSustainedAdmissionShedding', 'admission_rejected_total'],
      ['OmsHigh5xxRate', 'status_code=~"5.."'],
      ['OmsLatencyP99High', 'histogram_quantile(0.99'],
      ['OmsCacheHitRatioCollapse', 'cache_requests_total'],
      ['OmsRedisDown', 'redis_up'],
      ['OmsStoreNotReady', 'store_up == 0'],
    ] as const) {
      expect([alert, rules.find((r) => r.alert === alert)?.expr.includes(metric)]).toEqual([alert, true]);
    }
    expect(rules.find((r) => r.alert === 'OmsCircuitBreakerOpen')!.for).toBe('1m');
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(rules.map((r) => [r.alert, r] as const))(
    '%s follows the shape rule, has a severity, a summary and a runbook that exists',
    (_name, rule) => {
      expect(alertSignals(rule.expr).length).toBeGreaterThan(0);
      expect(['warning', 'critical']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary).toBeTruthy();
      expect(rule.annotations?.description).toBeTruthy();
      const runbook = defined(rule.annotations?.runbook, `a runbook annotation on ${rule.alert}`);
      const [file = '', anchor] = runbook.split('#');
      expect(existsSync(join(ROOT, file))).toBe(true);
      if (anchor) expect(markdownAnchors(join(ROOT, file))).toContain(anchor);
    },
  );

  it('have a promtool unit test per alert that fires and one that does not', () => {
    const tests = readAlertTests();
    expect(dirname(ALERT_TESTS)).toBe(dirname(ALERT_RULES));
    expect(tests.rule_files).toEqual([basename(ALERT_RULES)]);
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const name of names) {
      const mine = cases.filter((c) => c.alertname === name);
      const firing = mine.filter((c) => (c.exp_alerts ?? []).length > 0);
      const silent = mine.filter((c) => (c.exp_alerts ?? []).length === 0);
      expect([name, firing.length > 0, silent.length > 0]).toEqual([name, true, true]);
    }
    for (const c of cases) expect(names).toContain(c.alertname);
  });
});

describe('the README section', () => {
  const section = readReadmeStackSection();

  it('repeats the quick start of the compose file line for line', () => {
    expect(section.quickStart).toEqual([
      expect.stringMatching(/^cp config\/\.env\.production \.env$/),
      expect.stringMatching(/^sed -i .*JWT_SECRET.* \.env$/),
      'docker compose -f docker/docker-compose.yml up -d',
    ]);
    const header = composeHeaderLines();
    for (const line of section.quickStart) expect(header).toContain(line);
  });

  it('lists every compose service with its published ports, and no other', () => {
    const expected = Object.fromEntries(Object.entries(services).map(([name, s]) => [name, s.ports ?? []]));
    expect(section.services).toEqual(expected);
  });

  it('says plainly that CI validates the stack but has no Docker engine to run it', () => {
    expect(section.text.startsWith(README_STACK_HEADING)).toBe(true);
    expect(section.text).toContain('There is no Docker engine on the CI machine');
    expect(section.text).toContain('docker-compose -f docker/docker-compose.yml config');
  });
});

const promtool = requireTools('promtool checks');
if (promtool) {
  describe('promtool', () => {
    it('check config accepts prometheus.yml and the rule files it loads', () => {
      const run = runTool(promtool.promtool, ['check', 'config', PROMETHEUS_CONFIG]);
      expect([run.status, run.stdout + run.stderr]).toEqual([0, expect.stringContaining('SUCCESS')]);
    });

    it('check rules accepts alerts.yml with every rule', () => {
      const run = runTool(promtool.promtool, ['check', 'rules', ALERT_RULES]);
      expect([run.status, run.stdout + run.stderr]).toEqual([
        0,
        expect.stringContaining(`SUCCESS: ${rules.length} rules found`),
      ]);
    });

    it('test rules passes alerts.test.yml', () => {
      const run = runTool(promtool.promtool, ['test', 'rules', ALERT_TESTS], { timeoutMs: 120_000 });
      expect([run.status, run.stdout + run.stderr]).toEqual([0, expect.stringContaining('SUCCESS')]);
      expect(run.stdout + run.stderr).not.toContain('FAILED');
    });
  });
}

const compose = requireTools('docker-compose validation');
if (compose) {
  describe("docker-compose config (Debian's 1.29) on the README's quick start", () => {
    let dir: string;

    /** A fresh copy of what the quick start needs (docker/, config/), as a clone would have it. */
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'oms-compose-'));
      cpSync(DOCKER_DIR, join(dir, 'docker'), { recursive: true });
      cpSync(join(ROOT, 'config'), join(dir, 'config'), { recursive: true });
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    /** Runs the quick start's lines in `dir`, with `docker compose -f F up -d` as `docker-compose -f F config`. */
    const quickStart = (lines: string[]) => {
      let resolved: string | undefined;
      for (const line of lines) {
        const [, composeFile] = /^docker compose -f (\S+) up -d$/.exec(line) ?? [];
        if (composeFile !== undefined) {
          expect(existsSync(join(dir, composeFile))).toBe(true);
          const run = runTool(compose.dockerCompose, ['-f', composeFile, 'config'], { cwd: dir });
          expect([line, run.status, run.stderr]).toEqual([line, 0, expect.any(String)]);
          resolved = run.stdout;
        } else {
          const run = runTool('/bin/bash', ['-euo', 'pipefail', '-c', line], { cwd: dir });
          expect([line, run.status, run.stderr]).toEqual([line, 0, '']);
        }
      }
      expect(resolved).toBeDefined();
      return load(resolved!) as {
        services: Record<string, ComposeService & { environment: Record<string, string> }>;
      };
    };

    /** The service `name` of a resolved configuration, which the quick start must have produced. */
    const resolvedService = (config: ReturnType<typeof quickStart>, name: string) =>
      defined(config.services[name], `the resolved configuration to have the service ${name}`);

    it('validates with config/.env.production and a JWT_SECRET shared by both replicas', () => {
      const config = quickStart(readReadmeStackSection().quickStart);
      expect(Object.keys(config.services).sort()).toEqual(Object.keys(services).sort());
      const [one, two] = [resolvedService(config, 'oms-1'), resolvedService(config, 'oms-2')];
      expect(one.environment.OMS_ENV).toBe('production');
      expect(one.environment.JWT_SECRET).toMatch(/^[0-9a-f]{64}$/);
      expect(two.environment.JWT_SECRET).toBe(one.environment.JWT_SECRET);
      expect(one.environment.DATABASE_URL).toBe('postgres://oms:oms@postgres:5432/oms');
      expect(one.build).toEqual({ context: dir, dockerfile: 'docker/Dockerfile' });
      expect(resolvedService(config, 'redis').ports).toEqual([{ published: 6381, target: 6379 }]);
      expect(volumes(resolvedService(config, 'prometheus'))).toContainEqual([
        join(dir, 'docker/prometheus'),
        '/etc/prometheus',
      ]);
    });

    it('validates with config/.env.development', () => {
      const lines = readReadmeStackSection().quickStart.map((l) =>
        l.replace('config/.env.production', 'config/.env.development'),
      );
      const config = quickStart(lines);
      expect(resolvedService(config, 'oms-2').environment.OMS_ENV).toBe('development');
    });

    it('refuses a compose file that is not valid (the check is real)', () => {
      const broken = join(dir, 'docker/broken.yml');
      cpSync(join(PROMETHEUS_DIR, 'alerts.yml'), broken); // YAML, not a compose file
      const run = runTool(compose.dockerCompose, ['-f', 'docker/broken.yml', 'config'], { cwd: dir });
      expect(run.status).not.toBe(0);
    });
  });
}
