/** The few calls of Prometheus' HTTP API (/api/v1) the monitoring suite makes. */

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface Target {
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

export interface Rule {
  name: string;
  type: 'alerting' | 'recording';
  health: 'ok' | 'err' | 'unknown';
  lastError?: string;
  query: string;
}

export interface Alert {
  labels: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
}

export class PrometheusApi {
  constructor(readonly url: string) {}

  private async get<T>(path: string, params: Record<string, string> = {}): Promise<T> {
    const query = new URLSearchParams(params).toString();
    const res = await fetch(`${this.url}/api/v1/${path}${query ? `?${query}` : ''}`, {
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as { status: string; data: T; error?: string; errorType?: string };
    if (body.status !== 'success') {
      throw new Error(`Prometheus ${path} ${JSON.stringify(params)}: ${body.errorType}: ${body.error}`);
    }
    return body.data;
  }

  /** An instant query; throws on a PromQL error (a bad expression is a failure, not "no data"). */
  async query(expr: string): Promise<Sample[]> {
    const data = await this.get<{ resultType: string; result: Sample[] }>('query', { query: expr });
    if (data.resultType !== 'vector')
      throw new Error(`expected an instant vector from ${expr}, got ${data.resultType}`);
    return data.result;
  }

  async targets(): Promise<Target[]> {
    return (await this.get<{ activeTargets: Target[] }>('targets', { state: 'active' })).activeTargets;
  }

  async rules(): Promise<Rule[]> {
    const data = await this.get<{ groups: { rules: Rule[] }[] }>('rules');
    return data.groups.flatMap((g) => g.rules);
  }

  async alerts(): Promise<Alert[]> {
    return (await this.get<{ alerts: Alert[] }>('alerts')).alerts;
  }
}
