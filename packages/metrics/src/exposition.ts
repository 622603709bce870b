/** One sample of a metric family. `metricName` is set for `_bucket`, `_sum` and `_count` samples. */
export interface MetricSample {
  value: number;
  labels: Record<string, string | number | undefined>;
  metricName?: string;
}

/**
 * One metric family as prom-client's `getMetricsAsJSON()` reports it.
 * Note: prom-client's own typings declare `type` as a numeric enum, but the
 * runtime value is the string used in the exposition format.
 */
export interface MetricFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | string;
  values: MetricSample[];
}

/** Content type of the Prometheus text exposition format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Content type of the OpenMetrics 1.0.0 text format. */
export const OPENMETRICS_CONTENT_TYPE =
  'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** The exposition formats {@link formatMetrics} writes. */
export type ExpositionFormat = 'prometheus' | 'openmetrics';

/**
 * Renders metric families as text in the Prometheus or OpenMetrics format.
 *
 * Note: this renders from prom-client's JSON snapshot instead of calling
 * `Registry.metrics()`, because prom-client 15 strips `_total` from counter
 * names in place when it renders OpenMetrics, which corrupts every later
 * Prometheus scrape of the same registry.
 */
export function formatMetrics(families: readonly MetricFamily[], format: ExpositionFormat): string {
  const openMetrics = format === 'openmetrics';
  const blocks = families.map((family) => formatFamily(family, openMetrics));

  if (openMetrics) {
    return `${blocks.join('\n')}${blocks.length > 0 ? '\n' : ''}# EOF\n`;
  }

  return blocks.length > 0 ? `${blocks.join('\n\n')}\n` : '';
}

function formatFamily(family: MetricFamily, openMetrics: boolean): string {
  const isCounter = family.type === 'counter';
  // OpenMetrics names the counter family without `_total` and its sample with it.
  const familyName = openMetrics && isCounter ? family.name.replace(/_total$/, '') : family.name;
  const lines = [
    `# HELP ${familyName} ${escapeHelp(family.help)}`,
    `# TYPE ${familyName} ${family.type}`,
  ];

  for (const sample of family.values) {
    let sampleName = sample.metricName ?? family.name;
    if (openMetrics && isCounter) {
      sampleName = `${familyName}_total`;
    }
    lines.push(`${sampleName}${formatLabels(sample.labels)} ${formatValue(sample.value)}`);
  }

  return lines.join('\n');
}

function formatLabels(labels: MetricSample['labels']): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(labels)) {
    if (value === undefined) {
      continue;
    }
    parts.push(`${name}="${escapeLabelValue(String(value))}"`);
  }

  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) {
    return 'NaN';
  }
  if (value === Number.POSITIVE_INFINITY) {
    return '+Inf';
  }
  if (value === Number.NEGATIVE_INFINITY) {
    return '-Inf';
  }

  return String(value);
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(text: string): string {
  return escapeHelp(text).replace(/"/g, '\\"');
}
