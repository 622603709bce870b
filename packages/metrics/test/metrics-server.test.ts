import { afterEach, describe, expect, it } from 'vitest';
import {
  createMetricsRegistry,
  type MetricsServer,
  type MetricsServerConfig,
  type MetricsSource,
  mergeMetrics,
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  serveMetrics,
} from '../src/index';

const servers: MetricsServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(source: MetricsSource = createMetricsRegistry({ collectSystem: false })) {
  const server = await serveMetrics(source, { port: 0 });
  servers.push(server);
  return server;
}

describe('serveMetrics', () => {
  it('binds to loopback by default', async () => {
    const server = await start();

    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/metrics`);
  });

  it('serves the Prometheus text format', async () => {
    const metrics = createMetricsRegistry({ collectSystem: false });
    metrics.counter({ name: 'app_hits_total', help: 'Hits.' }).inc();
    const server = await start(metrics);

    const response = await fetch(server.url);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(await response.text()).toContain('app_hits_total 1');
  });

  it('serves OpenMetrics when Accept requests it', async () => {
    const metrics = createMetricsRegistry({ collectSystem: false });
    metrics.counter({ name: 'app_hits_total', help: 'Hits.' }).inc();
    const server = await start(metrics);

    const response = await fetch(server.url, {
      headers: { accept: 'application/openmetrics-text; version=1.0.0,text/plain;q=0.5' },
    });
    const body = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(OPENMETRICS_CONTENT_TYPE);
    expect(body).toContain('# TYPE app_hits counter');
    expect(body.endsWith('# EOF\n')).toBe(true);
  });

  it.each([
    ['a zero weight', 'application/openmetrics-text;q=0, text/plain', false],
    ['a lower weight than text', 'application/openmetrics-text;q=0.2, text/plain;q=0.8', false],
    ['mixed case', 'Application/OpenMetrics-Text; version=1.0.0', true],
    ['a wildcard only', '*/*', false],
  ])('negotiates Accept with %s', async (_case, accept, openMetrics) => {
    const server = await start();

    const response = await fetch(server.url, { headers: { accept } });
    await response.text();

    expect(response.headers.get('content-type')).toBe(
      openMetrics ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE,
    );
  });

  it('rejects a port in use with LISTEN_FAILED', async () => {
    const server = await start();

    await expect(
      serveMetrics(createMetricsRegistry({ collectSystem: false }), { port: server.port }),
    ).rejects.toMatchObject({ code: 'LISTEN_FAILED' });
  });

  it('logs a failed scrape', async () => {
    const metrics = createMetricsRegistry({ collectSystem: false });
    metrics.gauge({
      name: 'app_flaky',
      help: 'Flaky.',
      collect() {
        throw new Error('probe failed');
      },
    });
    const logged: unknown[] = [];
    const server = await serveMetrics(metrics, {
      port: 0,
      logger: { error: (message, context) => logged.push({ message, context }) },
    });
    servers.push(server);

    const response = await fetch(server.url);
    await response.text();

    expect(response.status).toBe(500);
    expect(logged).toEqual([
      { message: 'Metrics scrape failed', context: { path: '/metrics', error: 'probe failed' } },
    ]);
  });

  it('returns 404 on other paths', async () => {
    const server = await start();

    const response = await fetch(server.url.replace('/metrics', '/other'));

    expect(response.status).toBe(404);
  });

  it('returns 405 with Allow on other methods', async () => {
    const server = await start();

    const response = await fetch(server.url, { method: 'POST', body: 'x' });

    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
  });

  it('returns 500 when a collector fails', async () => {
    const metrics = createMetricsRegistry({ collectSystem: false });
    metrics.gauge({
      name: 'app_broken',
      help: 'Broken.',
      collect() {
        throw new Error('sensor offline');
      },
    });
    const server = await start(metrics);

    const response = await fetch(server.url);

    expect(response.status).toBe(500);
    expect(await response.text()).toContain('sensor offline');
  });

  it('closes idempotently and stops answering', async () => {
    const server = await serveMetrics(createMetricsRegistry({ collectSystem: false }), { port: 0 });

    await Promise.all([server.close(), server.close()]);

    await expect(fetch(server.url)).rejects.toThrow();
  });

  it.each([
    ['a negative port', { port: -1 }],
    ['a fractional port', { port: 80.5 }],
    ['an empty host', { host: '' }],
    ['a relative path', { path: 'metrics' }],
    ['an unknown option', { prt: 5 } as MetricsServerConfig],
  ])('rejects %s', async (_case, config) => {
    await expect(
      serveMetrics(createMetricsRegistry({ collectSystem: false }), config),
    ).rejects.toThrow(/must|Unknown serveMetrics\(\) option "prt"/);
  });
});

describe('mergeMetrics', () => {
  it('keeps each registry default labels', async () => {
    const first = createMetricsRegistry({ collectSystem: false, defaultLabels: { node: 'a' } });
    const second = createMetricsRegistry({ collectSystem: false, defaultLabels: { node: 'b' } });
    first.counter({ name: 'app_first_total', help: 'First.' }).inc();
    second.counter({ name: 'app_second_total', help: 'Second.' }).inc();
    const server = await start(await mergeMetrics([first, second]));

    const body = await (await fetch(server.url)).text();

    expect(body).toContain('app_first_total{node="a"} 1');
    expect(body).toContain('app_second_total{node="b"} 1');
  });

  it('rejects a name present in two registries', async () => {
    const first = createMetricsRegistry({ collectSystem: false });
    const second = createMetricsRegistry({ collectSystem: false });
    first.gauge({ name: 'app_shared', help: 'Shared.' });
    second.gauge({ name: 'app_shared', help: 'Shared.' });

    await expect(mergeMetrics([first, second])).rejects.toMatchObject({ code: 'DUPLICATE_METRIC' });
  });

  it('fails a scrape when a duplicate is registered after the merge', async () => {
    const first = createMetricsRegistry({ collectSystem: false });
    const second = createMetricsRegistry({ collectSystem: false });
    const server = await start(await mergeMetrics([first, second]));
    first.gauge({ name: 'app_late', help: 'Late.' });
    second.gauge({ name: 'app_late', help: 'Late.' });

    const response = await fetch(server.url);

    expect(response.status).toBe(500);
    expect(await response.text()).toContain('app_late');
  });
});
