import { MetricsError } from './errors';
import type { MetricFamily } from './exposition';
import type { MetricsSource } from './metrics-registry';

/**
 * Combines several registries into one scrape. Each source keeps its own
 * default labels. A metric name exposed by two sources is a
 * `DUPLICATE_METRIC` error, raised at once for the names present now and on
 * every scrape for names registered later.
 *
 * @example
 * import { createMetricsRegistry, mergeMetrics, serveMetrics } from '@agentnode/metrics';
 * const a = createMetricsRegistry({ defaultLabels: { node: 'a' } });
 * const b = createMetricsRegistry({ defaultLabels: { node: 'b' }, collectSystem: false });
 * const server = await serveMetrics(await mergeMetrics([a, b]), { port: 0 });
 */
export async function mergeMetrics(sources: readonly MetricsSource[]): Promise<MetricsSource> {
  if (!Array.isArray(sources) || sources.some((source) => typeof source?.collect !== 'function')) {
    throw new MetricsError(
      'INVALID_CONFIG',
      'mergeMetrics() takes an array of registries (objects with a collect() method).',
    );
  }

  const merged: MetricsSource = {
    async collect() {
      const families = await Promise.all(sources.map((source) => source.collect()));
      return concatUnique(families);
    },
  };
  await merged.collect();

  return merged;
}

function concatUnique(familyLists: readonly MetricFamily[][]): MetricFamily[] {
  const owners = new Map<string, number>();
  const result: MetricFamily[] = [];

  familyLists.forEach((families, sourceIndex) => {
    for (const family of families) {
      const owner = owners.get(family.name);
      if (owner !== undefined) {
        throw new MetricsError(
          'DUPLICATE_METRIC',
          `Metric "${family.name}" is exposed by registry #${owner} and registry #${sourceIndex} of the merge; each name may come from one registry only.`,
        );
      }
      owners.set(family.name, sourceIndex);
      result.push(family);
    }
  });

  return result;
}
