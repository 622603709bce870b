import { describe, expect, it } from 'vitest';
import { createMetricsRegistry, isMetricsError, type MetricsError } from '../src/index';

function quietRegistry(config: Parameters<typeof createMetricsRegistry>[0] = {}) {
  return createMetricsRegistry({ collectSystem: false, ...config });
}

function captureError(fn: () => unknown): MetricsError {
  try {
    fn();
  } catch (error) {
    if (isMetricsError(error)) {
      return error;
    }
    throw error;
  }
  throw new Error('expected a MetricsError, but nothing was thrown');
}

describe('registration', () => {
  it('returns the existing metric for the same definition', () => {
    const metrics = quietRegistry();
    const first = metrics.counter({
      name: 'app_calls_total',
      help: 'Calls.',
      labelNames: ['a', 'b'],
    });
    const second = metrics.counter({
      name: 'app_calls_total',
      help: 'Calls.',
      labelNames: ['b', 'a'],
    });

    expect(second).toBe(first);
  });

  it('rejects the same name with another type, naming both definitions', () => {
    const metrics = quietRegistry();
    metrics.counter({ name: 'app_things', help: 'Things.', labelNames: ['kind'] });

    const error = captureError(() =>
      metrics.gauge({ name: 'app_things', help: 'Things.', labelNames: ['kind'] }),
    );

    expect(error.code).toBe('METRIC_CONFLICT');
    expect(error.message).toContain('a counter with labels [kind]');
    expect(error.message).toContain('a gauge with labels [kind]');
  });

  it('rejects the same name with other label names', () => {
    const metrics = quietRegistry();
    metrics.histogram({ name: 'app_latency_seconds', help: 'Latency.', labelNames: ['kind'] });

    const error = captureError(() =>
      metrics.histogram({
        name: 'app_latency_seconds',
        help: 'Latency.',
        labelNames: ['kind', 'tool'],
      }),
    );

    expect(error.code).toBe('METRIC_CONFLICT');
    expect(error.message).toContain('[kind]');
    expect(error.message).toContain('[kind, tool]');
  });

  it('rejects the same histogram with other buckets', () => {
    const metrics = quietRegistry();
    metrics.histogram({ name: 'app_size_bytes', help: 'Size.', buckets: [1, 10] });

    const error = captureError(() =>
      metrics.histogram({ name: 'app_size_bytes', help: 'Size.', buckets: [1, 100] }),
    );

    expect(error.code).toBe('METRIC_CONFLICT');
  });

  it.each([
    ['a space', { name: 'bad name', help: 'x' }, 'INVALID_METRIC_NAME'],
    ['a leading digit', { name: '1metric', help: 'x' }, 'INVALID_METRIC_NAME'],
    ['an empty help', { name: 'ok_metric', help: ' ' }, 'INVALID_CONFIG'],
    [
      'a reserved label',
      { name: 'ok_metric', help: 'x', labelNames: ['__name'] },
      'INVALID_LABEL_NAME',
    ],
    [
      'a dashed label',
      { name: 'ok_metric', help: 'x', labelNames: ['tool-key'] },
      'INVALID_LABEL_NAME',
    ],
  ])('rejects a definition with %s', (_case, definition, code) => {
    const metrics = quietRegistry();

    expect(captureError(() => metrics.counter(definition)).code).toBe(code);
  });

  it('rejects unsorted histogram buckets', () => {
    const metrics = quietRegistry();

    const error = captureError(() =>
      metrics.histogram({ name: 'app_x_seconds', help: 'x', buckets: [1, 0.5] }),
    );

    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.message).toContain('buckets');
  });

  it.each([
    ['a bad prefix', { prefix: 'my-app' }],
    ['a non-string default label', { defaultLabels: { node: 1 as unknown as string } }],
    ['a bad default label name', { defaultLabels: { 'node id': 'x' } }],
  ])('rejects config with %s', (_case, config) => {
    expect(() => createMetricsRegistry(config)).toThrow(/must/);
  });

  it('prepends the prefix to every name', async () => {
    const metrics = quietRegistry({ prefix: 'host_' });
    metrics.counter({ name: 'agentnode_demo_total', help: 'Demo.' }).inc();

    expect(await metrics.metrics()).toContain('host_agentnode_demo_total 1');
  });
});

describe('two registries in one process', () => {
  it('keep metrics of the same name apart', async () => {
    const first = quietRegistry({ defaultLabels: { node: 'first' } });
    const second = quietRegistry({ defaultLabels: { node: 'second' } });
    const definition = {
      name: 'agentnode_tool_executions_total',
      help: 'Calls.',
      labelNames: ['kind'],
    };

    first.counter(definition).inc({ kind: 'function' }, 3);
    second.counter(definition).inc({ kind: 'function' }, 5);

    expect(await first.metrics()).toContain(
      'agentnode_tool_executions_total{kind="function",node="first"} 3',
    );
    expect(await second.metrics()).toContain(
      'agentnode_tool_executions_total{kind="function",node="second"} 5',
    );
  });
});

describe('startTimer', () => {
  it('records one observation and returns seconds', async () => {
    const metrics = quietRegistry();
    const histogram = metrics.histogram({
      name: 'app_step_seconds',
      help: 'Step.',
      labelNames: ['step', 'status'],
    });

    const timer = metrics.startTimer(histogram, { step: 'load' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const seconds = timer.stop({ status: 'ok' });
    const again = timer.stop({ status: 'error' });

    expect(seconds).toBeGreaterThan(0.01);
    expect(again).toBe(seconds);
    const text = await metrics.metrics();
    expect(text).toContain('app_step_seconds_count{step="load",status="ok"} 1');
    expect(text).not.toContain('status="error"');
  });
});

describe('time', () => {
  function setup() {
    const metrics = quietRegistry();
    const histogram = metrics.histogram({
      name: 'app_work_seconds',
      help: 'Work.',
      labelNames: ['op', 'status'],
    });
    return { metrics, histogram };
  }

  it('records ok for a sync function and returns its value', async () => {
    const { metrics, histogram } = setup();

    expect(metrics.time(histogram, { op: 'sum' }, () => 1 + 1)).toBe(2);
    expect(await metrics.metrics()).toContain('app_work_seconds_count{op="sum",status="ok"} 1');
  });

  it('records error for a sync throw and rethrows the original', async () => {
    const { metrics, histogram } = setup();
    const original = new RangeError('boom');

    expect(() =>
      metrics.time(histogram, { op: 'sum' }, () => {
        throw original;
      }),
    ).toThrow(original);
    expect(await metrics.metrics()).toContain('app_work_seconds_count{op="sum",status="error"} 1');
  });

  it('records ok and error for async functions', async () => {
    const { metrics, histogram } = setup();
    const original = new Error('async boom');

    await expect(metrics.time(histogram, { op: 'io' }, async () => 'done')).resolves.toBe('done');
    await expect(
      metrics.time(histogram, { op: 'io' }, () => Promise.reject(original)),
    ).rejects.toBe(original);

    const text = await metrics.metrics();
    expect(text).toContain('app_work_seconds_count{op="io",status="ok"} 1');
    expect(text).toContain('app_work_seconds_count{op="io",status="error"} 1');
  });

  it('rejects a histogram without a status label', () => {
    const metrics = quietRegistry();
    const histogram = metrics.histogram({
      name: 'app_plain_seconds',
      help: 'Plain.',
      labelNames: ['op'],
    });

    expect(captureError(() => metrics.time(histogram, { op: 'x' }, () => 1)).code).toBe(
      'MISSING_STATUS_LABEL',
    );
  });
});

describe('system metrics', () => {
  it('reports process resources on scrape', async () => {
    const metrics = createMetricsRegistry();
    const busyUntil = Date.now() + 30;
    while (Date.now() < busyUntil) {
      // Burn CPU so the next scrape has a non-zero delta.
    }

    const text = await metrics.metrics();
    metrics.close();

    const cpu = Number(/^agentnode_process_cpu_usage_percent (\S+)$/m.exec(text)?.[1]);
    const rss = Number(/^agentnode_process_resident_memory_bytes (\S+)$/m.exec(text)?.[1]);
    expect(cpu).toBeGreaterThan(0);
    expect(cpu).toBeLessThan(100 * 64);
    expect(rss).toBeGreaterThan(1024 * 1024);
    expect(text).toMatch(/^agentnode_process_heap_used_bytes \d+/m);
    expect(text).toMatch(/^agentnode_process_event_loop_lag_seconds\{statistic="p99"\} /m);
    expect(text).toMatch(/^agentnode_process_event_loop_utilization_ratio /m);
    expect(text).toMatch(/^agentnode_process_active_handles \d+/m);
  });

  it('registers nothing when collectSystem is false', async () => {
    expect(await quietRegistry().metrics()).not.toContain('agentnode_process_');
  });
});

describe('definition checks', () => {
  it('treats omitted buckets as the default buckets', () => {
    const metrics = quietRegistry();
    const first = metrics.histogram({ name: 'app_default_seconds', help: 'x' });
    const again = metrics.histogram({
      name: 'app_default_seconds',
      help: 'x',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });

    expect(again).toBe(first);
  });

  it('rejects omitted buckets after custom ones', () => {
    const metrics = quietRegistry();
    metrics.histogram({ name: 'app_custom_seconds', help: 'x', buckets: [1, 2] });

    const error = captureError(() => metrics.histogram({ name: 'app_custom_seconds', help: 'x' }));

    expect(error.code).toBe('METRIC_CONFLICT');
    expect(error.message).toContain('buckets [1, 2]');
    expect(error.message).toContain('buckets [0.005, 0.01');
  });

  it('rejects labelNames given as a string', () => {
    const metrics = quietRegistry();

    const error = captureError(() =>
      metrics.counter({
        name: 'app_x_total',
        help: 'x',
        labelNames: 'kind' as unknown as string[],
      }),
    );

    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.message).toContain('"kind"');
  });

  it.each([
    [
      'a duplicate label',
      () => quietRegistry().counter({ name: 'a_total', help: 'x', labelNames: ['k', 'k'] }),
    ],
    [
      'le on a histogram',
      () => quietRegistry().histogram({ name: 'a_seconds', help: 'x', labelNames: ['le'] }),
    ],
    [
      'quantile on a summary',
      () => quietRegistry().summary({ name: 'a_bytes', help: 'x', labelNames: ['quantile'] }),
    ],
  ])('rejects %s', (_case, register) => {
    expect(captureError(register).code).toBe('INVALID_LABEL_NAME');
  });

  it.each([[[1.5]], [[0]], [[0.5, 0.5]]])('rejects percentiles %j', (percentiles) => {
    const metrics = quietRegistry();

    const error = captureError(() =>
      metrics.summary({ name: 'app_size_bytes', help: 'x', percentiles }),
    );

    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.message).toContain('(0, 1]');
  });

  it('rejects a name that a histogram sample already uses', () => {
    const metrics = quietRegistry();
    metrics.histogram({ name: 'app_latency', help: 'x' });

    const error = captureError(() => metrics.gauge({ name: 'app_latency_sum', help: 'x' }));

    expect(error.code).toBe('METRIC_CONFLICT');
    expect(error.message).toContain('"app_latency"');
  });

  it('rejects a histogram whose samples an existing metric uses', () => {
    const metrics = quietRegistry();
    metrics.gauge({ name: 'app_wait_count', help: 'x' });

    expect(captureError(() => metrics.histogram({ name: 'app_wait', help: 'x' })).code).toBe(
      'METRIC_CONFLICT',
    );
  });

  it('rejects an unknown config option', () => {
    expect(() => createMetricsRegistry({ colectSystem: false } as never)).toThrow(
      /Unknown metrics option "colectSystem"/,
    );
  });

  it('rejects time() without a function', () => {
    const metrics = quietRegistry();
    const histogram = metrics.histogram({
      name: 'app_t_seconds',
      help: 'x',
      labelNames: ['status'],
    });

    const error = captureError(() => metrics.time(histogram, {}, 5 as unknown as () => number));

    expect(error.code).toBe('INVALID_ARGUMENT');
  });
});
