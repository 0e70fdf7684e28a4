import { dump, load } from 'js-yaml';

export interface StaticConfig {
  targets: string[];
  labels?: Record<string, string>;
}

export interface ScrapeConfig {
  job_name: string;
  static_configs?: StaticConfig[];
  [key: string]: unknown;
}

export interface PrometheusConfig {
  global?: { scrape_interval?: string; evaluation_interval?: string; [key: string]: unknown };
  rule_files?: string[];
  scrape_configs: ScrapeConfig[];
  [key: string]: unknown;
}

export function parsePrometheusConfig(text: string): PrometheusConfig {
  return load(text) as PrometheusConfig;
}

/** Every static target of the configuration, by job. */
export function scrapeTargets(config: PrometheusConfig): { job: string; target: string }[] {
  return config.scrape_configs.flatMap((job) =>
    (job.static_configs ?? []).flatMap((s) => s.targets.map((target) => ({ job: job.job_name, target }))),
  );
}

/**
 * The compose stack's Prometheus configuration for a test run: the same document with only each static
 * target replaced by its loopback address (`targets`, keyed by the compose address; one missing is an
 * error) and the global scrape and evaluation intervals set to `interval`. Everything else — jobs, paths,
 * labels, rule files — is the real file's.
 */
export function testPrometheusConfig(
  realConfigText: string,
  targets: Record<string, string>,
  interval: string,
): string {
  const config = parsePrometheusConfig(realConfigText);
  for (const job of config.scrape_configs) {
    for (const staticConfig of job.static_configs ?? []) {
      staticConfig.targets = staticConfig.targets.map((target) => {
        const address = targets[target];
        if (!address) throw new Error(`no test address for ${job.job_name} target ${target}`);
        return address;
      });
    }
  }
  config.global = { ...config.global, scrape_interval: interval, evaluation_interval: interval };
  return dump(config, { lineWidth: -1 });
}
