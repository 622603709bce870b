export type { Counter, Gauge, Histogram, LabelValues, Summary } from 'prom-client';
export { isMetricsError, MetricsError, type MetricsErrorCode } from './errors';
export {
  type ExpositionFormat,
  formatMetrics,
  type MetricFamily,
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
} from './exposition';
export { mergeMetrics } from './merge-metrics';
export {
  type CounterDefinition,
  createMetricsRegistry,
  type GaugeDefinition,
  type HistogramDefinition,
  type MetricDefinition,
  MetricsRegistry,
  type MetricsRegistryConfig,
  type MetricsSource,
  type SummaryDefinition,
} from './metrics-registry';
export {
  DEFAULT_METRICS_PORT,
  type MetricsServer,
  type MetricsServerConfig,
  serveMetrics,
} from './metrics-server';
export { MetricsTimer } from './metrics-timer';
