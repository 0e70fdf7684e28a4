/**
 * The mechanical rules the live suite relies on (support/promql.ts): what "an alert's SIGNAL" and "a panel's
 * query" are. If these were wrong, "every expression returns data" would prove less than it says.
 */
import { alertSignals, grafanaToPromQL, labelValuesQuery } from './support/promql';

describe('alertSignals', () => {
  it('removes the final comparison with a number', () => {
    expect(alertSignals('store_up == 0')).toEqual(['store_up']);
    expect(alertSignals('circuit_breaker_state > 0')).toEqual(['circuit_breaker_state']);
    expect(alertSignals('rate(x_total[5m]) >= bool 1.5e-3')).toEqual(['rate(x_total[5m])']);
    expect(alertSignals('a / b < -0.2')).toEqual(['a / b']);
  });

  it('splits a top-level `and` into one signal per condition, keeping inner `by (...)` lists whole', () => {
    expect(
      alertSignals(
        'sum by (job, route) (rate(a{s=~"5.."}[5m])) / sum by (job, route) (rate(a[5m])) > 0.05 and sum by (job, route) (rate(a[5m])) > 0.1',
      ),
    ).toEqual([
      'sum by (job, route) (rate(a{s=~"5.."}[5m])) / sum by (job, route) (rate(a[5m]))',
      'sum by (job, route) (rate(a[5m]))',
    ]);
  });

  it('does not mistake label matchers or strings for comparisons or keywords', () => {
    expect(alertSignals('up{job!="a > 1", x="and"} == 0')).toEqual(['up{job!="a > 1", x="and"}']);
    expect(alertSignals('sum by (instance) (rate(m{route!="/x"}[1m])) > 0')).toEqual([
      'sum by (instance) (rate(m{route!="/x"}[1m]))',
    ]);
  });

  it('keeps histogram_quantile and other function arguments inside the signal', () => {
    expect(alertSignals('histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m]))) > 0.5')).toEqual([
      'histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))',
    ]);
  });

  it.each([
    ['no threshold', 'rate(x[5m])'],
    ['a threshold that is not a number', 'a > b'],
    ['a comparison inside the signal', '(a > 1) * 2 > 0'],
    ['a comparison only inside parentheses', '(a > 1)'],
    ['a top-level or', 'a > 1 or b > 1'],
    ['a top-level unless', 'a > 1 unless b'],
    ['an and-operand without a threshold', 'a > 1 and b'],
  ])('rejects %s', (_what, expr) => {
    expect(() => alertSignals(expr)).toThrow();
  });
});

describe('grafanaToPromQL', () => {
  it('replaces $var, ${var}, [[var]] and built-ins', () => {
    expect(
      grafanaToPromQL(
        'rate(a{i=~"$instance"}[$__rate_interval]) + b{i=~"${instance}"} + c{i=~"[[instance]]"}',
        { instance: '.*' },
      ),
    ).toBe('rate(a{i=~".*"}[1m]) + b{i=~".*"} + c{i=~".*"}');
  });

  it('refuses a variable the dashboard does not define', () => {
    expect(() => grafanaToPromQL('a{i=~"$instnace"}', { instance: '.*' })).toThrow(/instnace/);
  });

  it('leaves a regex end anchor alone', () => {
    expect(grafanaToPromQL('a{route=~"/api$"}', {})).toBe('a{route=~"/api$"}');
  });
});

describe('labelValuesQuery', () => {
  it('reads label_values(selector, label) from a query variable', () => {
    expect(
      labelValuesQuery({
        name: 'instance',
        type: 'query',
        query: { query: 'label_values(up{job="oms"}, instance)' },
      }),
    ).toEqual({ selector: 'up{job="oms"}', label: 'instance' });
  });
});
