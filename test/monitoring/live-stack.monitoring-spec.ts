/**
 * Proof with the real binaries: two built OMS processes (the compose stack's two replicas), the real
 * redis_exporter against the local Redis, and a real Prometheus on loopback loaded with
 * docker/prometheus/prometheus.yml (only its targets and intervals rewritten) and alerts.yml. After real
 * traffic — reads, 304s, 404s, shedding, an injected store outage — every dashboard panel's query and every
 * alert rule's SIGNAL (support/promql.ts) must return at least one series: a panel or rule that names a
 * metric or label OMS or redis_exporter does not export fails here.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freshPgliteDir } from '../support/pglite-template';
import { freePort } from '../support/free-port';
import { first } from '../support/one';
import { Daemon } from './support/daemon';
import { OmsInstance } from './support/oms-instance';
import { PROMETHEUS_DIR } from './support/paths';
import { Alert, PrometheusApi } from './support/prometheus-api';
import { parsePrometheusConfig, scrapeTargets, testPrometheusConfig } from './support/prometheus-config';
import { alertSignals, dashboardQueries, labelValuesQuery } from './support/promql';
import {
  readAlertRules,
  readDashboard,
  readPrometheusConfig,
  readPrometheusConfigText,
} from './support/stack-files';
import { requireTools } from './support/tools';

const INTERVAL = '1s';
const ADMIN = { username: 'monitor', password: 'monitor-password' };
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const dashboard = readDashboard();
const rules = readAlertRules();
const panelQueries = dashboardQueries(dashboard);
const alertQueries = rules.flatMap((rule) =>
  alertSignals(rule.expr).map((signal, i) => ({ alert: rule.alert, part: i + 1, signal })),
);

describe('the Prometheus configuration of the live suite', () => {
  const real = readPrometheusConfig();
  const addresses = Object.fromEntries(
    scrapeTargets(real).map((t, i) => [t.target, `127.0.0.1:${20_000 + i}`]),
  );
  const generated = parsePrometheusConfig(
    testPrometheusConfig(readPrometheusConfigText(), addresses, INTERVAL),
  );
  /** A configuration with targets and intervals blanked: what must be identical. */
  const blanked = (c: typeof real) => ({
    ...c,
    global: { ...c.global, scrape_interval: '-', evaluation_interval: '-' },
    scrape_configs: c.scrape_configs.map((j) => ({
      ...j,
      static_configs: j.static_configs?.map((s) => ({ ...s, targets: s.targets.map(() => '-') })),
    })),
  });

  it("is the compose stack's file with only the targets and the intervals changed", () => {
    expect(blanked(generated)).toEqual(blanked(real));
    expect(scrapeTargets(generated)).toEqual(
      scrapeTargets(real).map((t) => ({ job: t.job, target: addresses[t.target] })),
    );
    expect(generated.global).toMatchObject({ scrape_interval: INTERVAL, evaluation_interval: INTERVAL });
  });

  it('refuses to leave a target of the compose file pointing nowhere', () => {
    expect(() => testPrometheusConfig(readPrometheusConfigText(), {}, INTERVAL)).toThrow(/oms-1:8091/);
  });
});

const tools = requireTools('live monitoring stack');
if (tools) {
  describe('a real Prometheus scraping the built service and redis_exporter', () => {
    const cleanups: (() => Promise<void> | void)[] = [];
    let a: OmsInstance;
    let b: OmsInstance;
    let exporterAddress: string;
    let prometheusAddress: string;
    let prom: PrometheusApi;
    /** What the scenario observed, asserted by the tests below. */
    const seen = {
      shedStatuses: [] as number[],
      outageStatuses: [] as number[],
      outageAlerts: [] as Alert[],
      storeUpInOutage: [] as string[],
      afterRecovery: 0,
    };

    const startOms = async (name: string, env: Record<string, string>) => {
      const { dataDir, cleanup } = freshPgliteDir();
      cleanups.push(cleanup);
      const instance = await OmsInstance.start(
        {
          DATA_DIR: dataDir,
          REDIS_URL,
          // Each replica has its own PGlite store here, so each keeps its own Redis keys and bus.
          REDIS_CACHE_PREFIX: `oms-monitoring-${process.pid}-${name}:`,
          FAULT_INJECTION_ENABLED: 'true',
          ...env,
        },
        ADMIN,
      );
      cleanups.push(() => instance.stop());
      return instance;
    };

    /** Reads, revalidations (304), 404s on a route and on no route, on one replica. */
    const readTraffic = async (oms: OmsInstance, docs: string[]) => {
      const etags = new Map<string, string>();
      for (const id of docs) {
        await oms.api('GET', `/api/v1/documents/crud/${id}`); // memory miss, Redis miss, store
        const hit = await oms.api('GET', `/api/v1/documents/crud/${id}`); // memory hit
        etags.set(id, hit.headers.get('etag')!);
      }
      for (const [id, etag] of etags) {
        const res = await oms.api('GET', `/api/v1/documents/crud/${id}`, {
          headers: { 'if-none-match': etag },
        });
        if (res.status !== 304) throw new Error(`revalidation of ${id} answered ${res.status}`);
      }
      for (const path of ['/api/v1/schemas/main/object-types', '/api/v1/schemas/main/object-types/Probe']) {
        const first = await oms.api('GET', path);
        await oms.api('GET', path, { headers: { 'if-none-match': first.headers.get('etag')! } });
      }
      for (const path of [
        '/api/v1/documents/crud/missing-1',
        '/api/v1/documents/crud/missing-2',
        '/api/v1/no-such-route',
      ]) {
        const res = await oms.api('GET', path);
        if (res.status !== 404) throw new Error(`${path} answered ${res.status}`);
      }
      await oms.api('GET', '/api/v1/branches');
    };

    const seed = async (oms: OmsInstance, count: number) => {
      const type = await oms.api('POST', '/api/v1/schemas/main/object-types', {
        body: { name: 'Probe', properties: [{ name: 'n', dataType: 'integer' }] },
      });
      if (type.status !== 201) throw new Error(`object type: ${type.status}`);
      const ids = Array.from({ length: count }, (_, i) => `p${i}`);
      for (const [i, id] of ids.entries()) {
        const res = await oms.api('POST', '/api/v1/documents/crud', {
          body: { objectType: 'Probe', id, properties: { n: i } },
        });
        if (res.status !== 201) throw new Error(`document ${id}: ${res.status}`);
      }
      return ids;
    };

    /** Polls Prometheus until `done` holds for the alerts of `instance`, within `timeoutMs`. */
    const waitForAlerts = async (instance: string, done: (alerts: Alert[]) => boolean, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      let alerts: Alert[] = [];
      while (Date.now() < deadline) {
        alerts = (await prom.alerts()).filter((x) => x.labels.instance === instance);
        if (done(alerts)) break;
        await sleep(500);
      }
      return alerts;
    };

    beforeAll(async () => {
      // The replicas: A small enough to shed and quick to recover, B as configured for the test env.
      // allSettled: if one fails to start, the other is still registered for cleanup before we throw.
      const replicas = await Promise.allSettled([
        startOms('a', {
          BACKPRESSURE_MAX_CONCURRENT: '2',
          BACKPRESSURE_MAX_QUEUE: '2',
          BACKPRESSURE_QUEUE_TIMEOUT_MS: '200',
          CIRCUIT_BREAKER_FAILURE_THRESHOLD: '3',
          CIRCUIT_BREAKER_MIN_CALLS: '1000',
          CIRCUIT_BREAKER_HALF_OPEN_AFTER_SECONDS: '1',
          MEMORY_CACHE_TTL_SECONDS: '1', // so that later reads reach the Redis tier
        }),
        startOms('b', {}),
      ]);
      const [replicaA, replicaB] = replicas;
      if (replicaA.status === 'rejected') throw replicaA.reason;
      if (replicaB.status === 'rejected') throw replicaB.reason;
      [a, b] = [replicaA.value, replicaB.value];

      const exporterPort = await freePort();
      exporterAddress = `127.0.0.1:${exporterPort}`;
      const exporter = await Daemon.start(
        'redis_exporter',
        tools.redisExporter,
        ['-redis.addr', REDIS_URL, '-web.listen-address', exporterAddress],
        `http://${exporterAddress}/metrics`,
        { ready: (body) => /^redis_up 1$/m.test(body) },
      );
      cleanups.push(() => exporter.stop());

      const prometheusPort = await freePort();
      prometheusAddress = `127.0.0.1:${prometheusPort}`;
      const dir = mkdtempSync(join(tmpdir(), 'oms-prometheus-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const configText = testPrometheusConfig(
        readPrometheusConfigText(),
        {
          'oms-1:8091': a.metricsAddress,
          'oms-2:8091': b.metricsAddress,
          'redis-exporter:9121': exporterAddress,
          'localhost:9090': prometheusAddress,
        },
        INTERVAL,
      );
      writeFileSync(join(dir, 'prometheus.yml'), configText);
      // The rule files, unchanged, where the configuration's relative paths expect them.
      for (const file of parsePrometheusConfig(configText).rule_files ?? []) {
        symlinkSync(join(PROMETHEUS_DIR, file), join(dir, file));
      }
      mkdirSync(join(dir, 'data'));
      const prometheus = await Daemon.start(
        'prometheus',
        tools.prometheus,
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=${prometheusAddress}`,
        ],
        `http://${prometheusAddress}/-/ready`,
      );
      cleanups.push(() => prometheus.stop());
      prom = new PrometheusApi(`http://${prometheusAddress}`);

      // Traffic on both replicas.
      const docsA = await seed(a, 6);
      const docsB = await seed(b, 2);
      await readTraffic(a, docsA);
      await readTraffic(b, docsB);
      await sleep(1100); // A's memory tier expires: the next reads are Redis hits
      for (const id of docsA) await a.api('GET', `/api/v1/documents/crud/${id}`);

      // Overload A: 2 running, 2 queued (then timing out after 200 ms), the rest shed at once.
      if ((await a.storeFault({ errorRate: 0, latencyMs: 300 })) !== 200) throw new Error('fault not set');
      const burst = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          a.api('POST', '/api/v1/documents/crud', {
            body: { objectType: 'Probe', id: `burst-${i}`, properties: {} },
          }),
        ),
      );
      seen.shedStatuses = burst.map((r) => r.status);

      // A store outage on A: failures open the store and documents breakers, store_up drops to 0.
      if ((await a.storeFault({ errorRate: 1, latencyMs: 0 })) !== 200) throw new Error('fault not set');
      for (let i = 0; i < 4; i++)
        seen.outageStatuses.push((await a.api('GET', `/api/v1/documents/crud/cold-${i}`)).status);
      seen.outageAlerts = await waitForAlerts(
        a.metricsAddress,
        (alerts) =>
          ['OmsStoreNotReady', 'OmsCircuitBreakerOpen'].every((n) =>
            alerts.some((x) => x.labels.alertname === n),
          ),
        30_000,
      );
      seen.storeUpInOutage = (await prom.query(`store_up{instance="${a.metricsAddress}"}`)).map(
        (s) => s.value[1],
      );
      if ((await a.storeFault(null)) !== 204) throw new Error('fault not cleared');
      await sleep(1100); // half-open: the next call is a trial
      seen.afterRecovery = (await a.api('GET', '/api/v1/documents/crud/cold-0')).status;

      await sleep(3000); // a few more scrapes and rule evaluations over the final state
    }, 180_000);

    afterAll(async () => {
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch (error) {
          process.emitWarning(`monitoring cleanup: ${String(error)}`);
        }
      }
    }, 60_000);

    it('scrapes both OMS replicas, redis_exporter and itself, as the compose configuration lists them', async () => {
      const targets = await prom.targets();
      const byJob = (job: string) =>
        targets
          .filter((t) => t.labels.job === job)
          .map((t) => [t.labels.instance, t.health, t.lastError])
          .sort();
      expect(byJob('oms')).toEqual(
        [a.metricsAddress, b.metricsAddress].sort().map((instance) => [instance, 'up', '']),
      );
      expect(byJob('redis')).toEqual([[exporterAddress, 'up', '']]);
      expect(byJob('prometheus')).toEqual([[prometheusAddress, 'up', '']]);
      expect(targets).toHaveLength(scrapeTargets(readPrometheusConfig()).length);
    });

    it('loads every alert rule of alerts.yml and evaluates each without error', async () => {
      const loaded = (await prom.rules()).filter((r) => r.type === 'alerting');
      expect(loaded.map((r) => r.name).sort()).toEqual(rules.map((r) => r.alert).sort());
      for (const rule of loaded)
        expect([rule.name, rule.health, rule.lastError ?? '']).toEqual([rule.name, 'ok', '']);
    });

    it('drove the traffic the panels show: shedding, an outage answered 503, then recovery', () => {
      expect(seen.shedStatuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(2);
      expect(seen.shedStatuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(10);
      expect(seen.shedStatuses.filter((s) => s !== 201 && s !== 503)).toEqual([]);
      expect(seen.outageStatuses).toEqual([503, 503, 503, 503]);
      expect(seen.afterRecovery).toBe(404);
    });

    it('sees the injected outage as store_up 0 and OmsStoreNotReady and OmsCircuitBreakerOpen active for that replica', () => {
      expect(seen.storeUpInOutage).toEqual(['0']);
      const active = seen.outageAlerts.filter((x) => x.state === 'pending' || x.state === 'firing');
      expect(active.filter((x) => x.labels.alertname === 'OmsStoreNotReady')).toHaveLength(1);
      expect(
        active
          .filter((x) => x.labels.alertname === 'OmsCircuitBreakerOpen')
          .map((x) => x.labels.breaker)
          .sort(),
      ).toEqual(expect.arrayContaining(['documents', 'store']));
    });

    it.each([
      ['304s served', 'sum(etag_cache_hits_total{job="oms"})'],
      ['304 responses', 'sum(http_request_duration_seconds_count{job="oms", status_code="304"})'],
      [
        '404s on a route',
        'sum(http_request_duration_seconds_count{route="/api/v1/documents/crud/:id", status_code="404"})',
      ],
      ['404s on no route', 'sum(http_request_duration_seconds_count{route="unmatched", status_code="404"})'],
      ['503s', 'sum(http_request_duration_seconds_count{status_code="503"})'],
      ['requests shed, queue full', 'sum(backpressure_rejected_total{reason="queue_full"})'],
      ['requests shed, queue timeout', 'sum(backpressure_rejected_total{reason="queue_timeout"})'],
      ['store breaker opened', 'sum(circuit_breaker_transitions_total{breaker="store", to="open"})'],
      ['store breaker closed again', 'sum(circuit_breaker_transitions_total{breaker="store", to="closed"})'],
      ['breaker rejections', 'sum(circuit_breaker_rejections_total)'],
      ['memory tier hits', 'sum(cache_requests_total{tier="memory", result="hit"})'],
      ['Redis tier hits', 'sum(cache_requests_total{tier="redis", result="hit"})'],
      ['Redis keyspace hits', 'sum(redis_keyspace_hits_total)'],
      ['store reads', 'sum(store_reads_total)'],
    ])('counted %s', async (_what, expr) => {
      const [sample] = await prom.query(expr);
      expect(Number(sample?.value[1] ?? 0)).toBeGreaterThan(0);
    });

    it('fills the dashboard variable "instance" with both replicas', async () => {
      const { selector, label } = labelValuesQuery(first(dashboard.templating.list, 'dashboard variable'));
      const values = (await prom.query(selector)).map((s) => s.metric[label]).sort();
      expect(values).toEqual([a.metricsAddress, b.metricsAddress].sort());
    });

    it.each(panelQueries.map((q) => [q.panel, q.refId, q.promql] as const))(
      'dashboard panel "%s" query %s returns data',
      async (_panel, _refId, promql) => {
        const result = await prom.query(promql);
        expect([promql, result.length > 0]).toEqual([promql, true]);
      },
    );

    it.each(alertQueries.map((q) => [q.alert, q.part, q.signal] as const))(
      'alert %s signal %d returns data',
      async (_alert, _part, signal) => {
        const result = await prom.query(signal);
        expect([signal, result.length > 0]).toEqual([signal, true]);
      },
    );

    it('would fail for a metric or a label value that is not exported (the check is real)', async () => {
      expect(await prom.query('sum by (tier) (rate(cache_requests_total{result="hits"}[1m]))')).toEqual([]);
      expect(await prom.query('circuit_breaker_status')).toEqual([]);
    });
  });
}
