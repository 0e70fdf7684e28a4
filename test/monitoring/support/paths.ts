import { join } from 'node:path';

/** The files of the monitoring stack, as the compose file and CI use them. */
export const ROOT = join(__dirname, '../../..');
export const DOCKER_DIR = join(ROOT, 'docker');
export const COMPOSE_FILE = join(DOCKER_DIR, 'docker-compose.yml');
export const PROMETHEUS_DIR = join(DOCKER_DIR, 'prometheus');
export const PROMETHEUS_CONFIG = join(PROMETHEUS_DIR, 'prometheus.yml');
export const ALERT_RULES = join(PROMETHEUS_DIR, 'alerts.yml');
export const ALERT_TESTS = join(PROMETHEUS_DIR, 'alerts.test.yml');
export const GRAFANA_DIR = join(DOCKER_DIR, 'grafana');
export const DASHBOARD = join(GRAFANA_DIR, 'dashboards/oms-resilience.json');
export const DATASOURCES = join(GRAFANA_DIR, 'provisioning/datasources/prometheus.yml');
export const DASHBOARD_PROVIDERS = join(GRAFANA_DIR, 'provisioning/dashboards/oms.yml');
export const README = join(ROOT, 'README.md');
