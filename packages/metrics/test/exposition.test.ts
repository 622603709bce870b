import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../src/index';

describe('formatMetrics', () => {
  it('keeps counter names intact after an OpenMetrics render', async () => {
    const metrics = createMetricsRegistry({ collectSystem: false });
    metrics.counter({ name: 'app_requests_total', help: 'Requests.' }).inc(2);

    const openMetrics = await metrics.metrics('openmetrics');
    const prometheus = await metrics.metrics('prometheus');

    expect(openMetrics).toContain('# TYPE app_requests counter');
    expect(openMetrics).toContain('app_requests_total 2');
    expect(openMetrics.endsWith('# EOF\n')).toBe(true);
    expect(prometheus).toContain('# TYPE app_requests_total counter');
    expect(prometheus).toContain('app_requests_total 2');
  });

  it('escapes label values and help text', async () => {
    const metrics = createMetricsRegistry({ collectSystem: false });
    metrics
      .gauge({ name: 'app_value', help: 'Line one\nline two \\ end', labelNames: ['path'] })
      .set({ path: 'a"b\\c\nd' }, 1);

    const text = await metrics.metrics();

    expect(text).toContain('# HELP app_value Line one\\nline two \\\\ end');
    expect(text).toContain('app_value{path="a\\"b\\\\c\\nd"} 1');
  });

  it('renders histogram buckets, sum and count', async () => {
    const metrics = createMetricsRegistry({ collectSystem: false });
    metrics.histogram({ name: 'app_wait_seconds', help: 'Wait.', buckets: [0.1, 1] }).observe(0.5);

    const text = await metrics.metrics();

    expect(text).toContain('app_wait_seconds_bucket{le="0.1"} 0');
    expect(text).toContain('app_wait_seconds_bucket{le="1"} 1');
    expect(text).toContain('app_wait_seconds_bucket{le="+Inf"} 1');
    expect(text).toContain('app_wait_seconds_sum 0.5');
    expect(text).toContain('app_wait_seconds_count 1');
  });
});
