/**
 * The mechanical rules by which the monitoring suites turn dashboard panels and alert rules into PromQL
 * that must return data from a Prometheus scraping the real service.
 *
 * Alert rules (docker/prometheus/alerts.yml) are written as one condition `SIGNAL OP NUMBER`, or several
 * joined by a top-level `and`. alertSignals() returns each SIGNAL with its `OP NUMBER` removed: whether a
 * threshold is crossed depends on the traffic, whether the SIGNAL has series depends only on the metric
 * and label names it uses. Anything else (`or`, `unless`, a comparison inside a SIGNAL, a condition without
 * a numeric threshold) is rejected, so the rule cannot silently test less than the alert uses.
 *
 * Dashboard panels: every target's `expr`, with Grafana's variables replaced by the values a user gets
 * with "All" selected (see grafanaToPromQL).
 */

const COMPARISON = /(==|!=|>=|<=|>|<)/;

/**
 * The expression with everything inside string literals and label-matcher braces replaced by `_`, so
 * operators can be found by position (`!=` in `{status_code!="304"}` is a matcher, not a comparison).
 */
function mask(expr: string): string {
  let out = '';
  let braces = 0;
  let quote: string | undefined;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (quote) {
      if (c === '\\') {
        out += '__';
        i++;
        continue;
      }
      if (c === quote) quote = undefined;
      out += '_';
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      quote = c;
      out += '_';
      continue;
    }
    if (c === '{') braces++;
    if (c === '}') braces--;
    out += braces > 0 || c === '}' ? '_' : c;
  }
  return out;
}

/** Offsets of top-level (outside any parentheses or brackets) occurrences of a keyword in masked text. */
function topLevelKeyword(masked: string, keyword: string): number[] {
  const found: number[] = [];
  let depth = 0;
  for (let i = 0; i < masked.length; i++) {
    const c = masked[i];
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (depth === 0 && masked.startsWith(keyword, i)) {
      const before = i === 0 ? ' ' : masked.charAt(i - 1);
      const after = masked[i + keyword.length] ?? ' ';
      if (/[\s)]/.test(before) && /[\s(]/.test(after)) found.push(i);
    }
  }
  return found;
}

function depthAt(masked: string, index: number): number {
  let depth = 0;
  for (let i = 0; i < index; i++) {
    if (masked[i] === '(' || masked[i] === '[') depth++;
    else if (masked[i] === ')' || masked[i] === ']') depth--;
  }
  return depth;
}

/** The SIGNALs of an alert expression (see the file comment); throws if the expression breaks the rule. */
export function alertSignals(expr: string): string[] {
  const masked = mask(expr);
  for (const keyword of ['or', 'unless']) {
    if (topLevelKeyword(masked, keyword).length > 0) {
      throw new Error(`alert expression uses a top-level "${keyword}": ${expr}`);
    }
  }
  const cuts = [...topLevelKeyword(masked, 'and'), masked.length];
  const signals: string[] = [];
  let start = 0;
  for (const cut of cuts) {
    const part = masked.slice(start, cut);
    const condition =
      /^([\s\S]*?)(==|!=|>=|<=|>|<)\s*(?:bool\s+)?[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?\s*$/i.exec(part);
    const signalMasked = condition?.[1];
    if (signalMasked === undefined || depthAt(part, signalMasked.length) !== 0) {
      throw new Error(`alert condition is not "SIGNAL OP NUMBER": ${expr.slice(start, cut).trim()}`);
    }
    if (COMPARISON.test(signalMasked)) {
      throw new Error(`alert signal holds a comparison of its own: ${expr.slice(start, cut).trim()}`);
    }
    signals.push(expr.slice(start, start + signalMasked.length).trim());
    start = cut + 'and'.length;
  }
  return signals;
}

/** Grafana's built-in variables the dashboard may use, and the values the suites give them. */
export const GRAFANA_BUILTINS: Record<string, string> = { __rate_interval: '1m' };

/**
 * A panel expression as Prometheus receives it: `$var`, `${var}` and `[[var]]` replaced by `values`
 * (built-ins included). Throws if a variable has no value, so a typo cannot reach Prometheus unseen.
 */
export function grafanaToPromQL(expr: string, values: Record<string, string>): string {
  const all = { ...GRAFANA_BUILTINS, ...values };
  return expr.replace(
    /\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g,
    (_match, a?: string, b?: string, c?: string) => {
      const name = (a ?? b ?? c)!;
      const value = all[name];
      if (value === undefined) throw new Error(`unknown dashboard variable $${name} in: ${expr}`);
      return value;
    },
  );
}

export interface GrafanaTarget {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}

export interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
}

export interface GrafanaVariable {
  name: string;
  type: string;
  allValue?: string;
  includeAll?: boolean;
  definition?: string;
  query?: string | { query?: string };
}

export interface GrafanaDashboard {
  uid: string;
  title: string;
  panels: GrafanaPanel[];
  templating: { list: GrafanaVariable[] };
}

/** Every panel, rows' nested panels included, rows themselves excluded. */
export function dashboardPanels(dashboard: GrafanaDashboard): GrafanaPanel[] {
  return dashboard.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
}

export interface PanelQuery {
  panel: string;
  refId: string;
  /** As written in the dashboard. */
  expr: string;
  /** As Prometheus receives it with every variable at its "All" value. */
  promql: string;
}

/** The "All" value of each query variable: what the suites substitute for it. */
export function allValues(dashboard: GrafanaDashboard): Record<string, string> {
  return Object.fromEntries(
    dashboard.templating.list.map((v) => {
      if (!v.includeAll || v.allValue === undefined) {
        throw new Error(`dashboard variable ${v.name} needs includeAll and an explicit allValue`);
      }
      return [v.name, v.allValue];
    }),
  );
}

export function dashboardQueries(dashboard: GrafanaDashboard): PanelQuery[] {
  const values = allValues(dashboard);
  return dashboardPanels(dashboard).flatMap((panel) =>
    (panel.targets ?? []).map((t) => ({
      panel: panel.title,
      refId: t.refId ?? '?',
      expr: t.expr ?? '',
      promql: grafanaToPromQL(t.expr ?? '', values),
    })),
  );
}

/** `label_values(SELECTOR, LABEL)` of a query variable, as the PromQL selector and the label it reads. */
export function labelValuesQuery(variable: GrafanaVariable): { selector: string; label: string } {
  const text = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
  const [, selector, label] = /^label_values\((.+),\s*(\w+)\s*\)$/.exec(text.trim()) ?? [];
  if (selector === undefined || label === undefined)
    throw new Error(`variable ${variable.name}: not a label_values(selector, label) query: ${text}`);
  return { selector: selector.trim(), label };
}
