/**
 * @agentnode/metrics on its own: a registry, a counter, a timed histogram and
 * the /metrics endpoint, scraped once over HTTP.
 *
 *   node --conditions=source --import tsx examples/metrics/main.ts
 */
import { createMetricsRegistry, serveMetrics } from '@agentnode/metrics';

const metrics = createMetricsRegistry({ defaultLabels: { node: 'example' } });
const jobs = metrics.counter({
  name: 'example_jobs_total',
  help: 'Jobs processed, by outcome.',
  labelNames: ['outcome'],
});
const duration = metrics.histogram({
  name: 'example_job_duration_seconds',
  help: 'Time per job.',
  labelNames: ['status'],
  buckets: [0.001, 0.01, 0.1, 1],
});

for (let job = 0; job < 5; job++) {
  try {
    await metrics.time(duration, {}, async () => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (job === 3) {
        throw new Error('job 3 failed');
      }
    });
    jobs.inc({ outcome: 'done' });
  } catch {
    jobs.inc({ outcome: 'failed' });
  }
}

const server = await serveMetrics(metrics, { port: 0 });
const body = await (await fetch(server.url)).text();
console.log(`scraped ${server.url}`);
for (const line of body.split('\n')) {
  if (line.startsWith('example_') && !line.includes('_bucket')) {
    console.log(line);
  }
}
await server.close();
metrics.close();
