import type { Counter, Gauge, Histogram, MetricsRegistry } from '@agentnode/metrics';

/** Upper bounds, in seconds, for tool call durations: 1 ms to 60 s. */
export const TOOL_DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
] as const;

/** Upper bounds, in seconds, for queue wait: 0.1 ms to 10 s. */
export const QUEUE_WAIT_BUCKETS = [
  0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10,
] as const;

/** The tool metrics of one coordinator. */
export interface ToolMetrics {
  readonly duration: Histogram<'kind' | 'tool' | 'status'>;
  readonly executions: Counter<'kind' | 'tool' | 'status'>;
  readonly queueWait: Histogram<'kind' | 'tool'>;
  readonly inFlight: Gauge<'kind'>;
  readonly queued: Gauge<'kind'>;
  readonly retries: Counter<'kind' | 'tool'>;
  readonly timeouts: Counter<'kind' | 'tool'>;
  readonly listenerErrors: Counter<'event'>;
}

/** Registers (or finds, on a shared registry) the tool metrics. */
export function createToolMetrics(metrics: MetricsRegistry): ToolMetrics {
  return {
    duration: metrics.histogram({
      name: 'agentnode_tool_execution_duration_seconds',
      help: 'Time from a tool call leaving the queue to its result, retries included.',
      labelNames: ['kind', 'tool', 'status'],
      buckets: TOOL_DURATION_BUCKETS,
    }),
    executions: metrics.counter({
      name: 'agentnode_tool_executions_total',
      help: 'Tool calls finished, by status (ok, error, timeout, aborted).',
      labelNames: ['kind', 'tool', 'status'],
    }),
    queueWait: metrics.histogram({
      name: 'agentnode_tool_queue_wait_seconds',
      help: 'Time a tool call waited for a concurrency slot.',
      labelNames: ['kind', 'tool'],
      buckets: QUEUE_WAIT_BUCKETS,
    }),
    inFlight: metrics.gauge({
      name: 'agentnode_tool_calls_in_flight',
      help: 'Tool calls running now.',
      labelNames: ['kind'],
    }),
    queued: metrics.gauge({
      name: 'agentnode_tool_calls_queued',
      help: 'Tool calls waiting for a concurrency slot now.',
      labelNames: ['kind'],
    }),
    retries: metrics.counter({
      name: 'agentnode_tool_retries_total',
      help: 'Tool call attempts made after a retryable failure.',
      labelNames: ['kind', 'tool'],
    }),
    timeouts: metrics.counter({
      name: 'agentnode_tool_timeouts_total',
      help: 'Tool call attempts and batches stopped by a time limit.',
      labelNames: ['kind', 'tool'],
    }),
    listenerErrors: metrics.counter({
      name: 'agentnode_tool_event_listener_errors_total',
      help: 'Errors thrown by coordinator event listeners, caught and logged.',
      labelNames: ['event'],
    }),
  };
}
