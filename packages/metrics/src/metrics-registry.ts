import {
  Counter,
  Gauge,
  Histogram,
  type LabelValues,
  type Metric,
  Registry,
  Summary,
} from 'prom-client';
import { MetricsError } from './errors';
import { type ExpositionFormat, formatMetrics, type MetricFamily } from './exposition';
import { MetricsTimer } from './metrics-timer';
import { registerSystemMetrics } from './system-collector';

/** What {@link createMetricsRegistry} takes. */
export interface MetricsRegistryConfig {
  /**
   * Prepended to every metric name registered through this registry.
   * @default ''
   */
  prefix?: string;
  /**
   * Labels added to every sample this registry exposes, for example the node id.
   * @default {}
   */
  defaultLabels?: Readonly<Record<string, string>>;
  /**
   * Registers process gauges (CPU percent, resident memory, heap, event-loop
   * lag and utilisation, active handles), computed on scrape.
   * @default true
   */
  collectSystem?: boolean;
}

/** The part every metric definition shares. */
export interface MetricDefinition<L extends string = string> {
  /** Metric name, `agentnode_<subsystem>_<what>_<unit>` by convention. */
  name: string;
  /** One sentence on what the metric measures. */
  help: string;
  /** Label names; the order does not matter for get-or-create. @default [] */
  labelNames?: readonly L[];
}

/** A counter, optionally filled on scrape by `collect`. */
export interface CounterDefinition<L extends string = string> extends MetricDefinition<L> {
  collect?: (this: Counter<L>) => void | Promise<void>;
}

/** A gauge, optionally filled on scrape by `collect`. */
export interface GaugeDefinition<L extends string = string> extends MetricDefinition<L> {
  collect?: (this: Gauge<L>) => void | Promise<void>;
}

/** A histogram; `buckets` are upper bounds in the metric's unit. */
export interface HistogramDefinition<L extends string = string> extends MetricDefinition<L> {
  /** @default prom-client's default buckets, 0.005 s to 10 s */
  buckets?: readonly number[];
}

/** A summary over a sliding time window. */
export interface SummaryDefinition<L extends string = string> extends MetricDefinition<L> {
  /** @default [0.01, 0.05, 0.5, 0.9, 0.95, 0.99, 0.999] */
  percentiles?: readonly number[];
  /** Window length; without it the summary covers the whole process life. */
  maxAgeSeconds?: number;
  /** Number of buckets the window rotates through. @default 5 when maxAgeSeconds is set */
  ageBuckets?: number;
}

/** Anything that can report metric families for a scrape. */
export interface MetricsSource {
  collect(): Promise<MetricFamily[]>;
}

type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';

interface RegisteredMetric {
  readonly type: MetricType;
  readonly labelNames: readonly string[];
  /** Buckets or percentiles, part of the definition's identity. */
  readonly shape: readonly number[] | undefined;
  readonly metric: Metric<string>;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
/** prom-client's default histogram buckets, in seconds. */
const DEFAULT_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
/** prom-client's default summary percentiles. */
const DEFAULT_PERCENTILES: readonly number[] = [0.01, 0.05, 0.5, 0.9, 0.95, 0.99, 0.999];
/** Sample names each type writes besides its own name, and labels it reserves. */
const SERIES_SUFFIXES: Record<MetricType, readonly string[]> = {
  counter: [''],
  gauge: [''],
  histogram: ['', '_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};
const RESERVED_LABELS: Partial<Record<MetricType, string>> = {
  histogram: 'le',
  summary: 'quantile',
};
const CONFIG_KEYS = new Set(['prefix', 'defaultLabels', 'collectSystem']);
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const STATUS_LABEL = 'status';

/**
 * The metrics of one node: a private prom-client `Registry` (never the global
 * default one, so two nodes in one process never collide) with get-or-create
 * registration, timers and system resource gauges.
 *
 * @example
 * import { createMetricsRegistry } from '@agentnode/metrics';
 * const metrics = createMetricsRegistry({ defaultLabels: { node: 'n1' } });
 * const calls = metrics.counter({ name: 'agentnode_demo_calls_total', help: 'Calls made.', labelNames: ['kind'] });
 * calls.inc({ kind: 'function' });
 * console.log(await metrics.metrics());
 */
export class MetricsRegistry implements MetricsSource {
  /** The underlying prom-client registry, for libraries that want one. */
  readonly registry: Registry;
  readonly prefix: string;
  readonly #definitions = new Map<string, RegisteredMetric>();
  /** Sample name to the metric that writes it. */
  readonly #seriesOwners = new Map<string, string>();
  readonly #stopSystemMetrics: (() => void) | undefined;
  #closed = false;

  constructor(config: MetricsRegistryConfig = {}) {
    const { prefix, defaultLabels, collectSystem } = validateConfig(config);
    this.prefix = prefix;
    this.registry = new Registry();
    this.registry.setDefaultLabels({ ...defaultLabels });
    this.#stopSystemMetrics = collectSystem ? registerSystemMetrics(this) : undefined;
  }

  /** Registers a counter, or returns the one already registered with this definition. */
  counter<L extends string = string>(definition: CounterDefinition<L>): Counter<L> {
    return this.#getOrCreate('counter', definition, undefined, (name, labelNames) => {
      return new Counter<L>({
        name,
        help: definition.help,
        labelNames,
        registers: [this.registry],
        ...(definition.collect && { collect: definition.collect }),
      });
    });
  }

  /** Registers a gauge, or returns the one already registered with this definition. */
  gauge<L extends string = string>(definition: GaugeDefinition<L>): Gauge<L> {
    return this.#getOrCreate('gauge', definition, undefined, (name, labelNames) => {
      return new Gauge<L>({
        name,
        help: definition.help,
        labelNames,
        registers: [this.registry],
        ...(definition.collect && { collect: definition.collect }),
      });
    });
  }

  /** Registers a histogram, or returns the one already registered with this definition. */
  histogram<L extends string = string>(definition: HistogramDefinition<L>): Histogram<L> {
    const buckets =
      definition.buckets === undefined
        ? DEFAULT_BUCKETS
        : validateSortedNumbers('buckets', definition);
    return this.#getOrCreate('histogram', definition, buckets, (name, labelNames) => {
      return new Histogram<L>({
        name,
        help: definition.help,
        labelNames,
        registers: [this.registry],
        buckets: [...buckets],
      });
    });
  }

  /** Registers a summary, or returns the one already registered with this definition. */
  summary<L extends string = string>(definition: SummaryDefinition<L>): Summary<L> {
    const percentiles =
      definition.percentiles === undefined
        ? DEFAULT_PERCENTILES
        : validateSortedNumbers('percentiles', definition);
    return this.#getOrCreate('summary', definition, percentiles, (name, labelNames) => {
      return new Summary<L>({
        name,
        help: definition.help,
        labelNames,
        registers: [this.registry],
        percentiles: [...percentiles],
        ...(definition.maxAgeSeconds !== undefined && {
          maxAgeSeconds: definition.maxAgeSeconds,
          ageBuckets: definition.ageBuckets ?? 5,
        }),
      });
    });
  }

  /**
   * Starts timing one observation of `histogram`; `stop()` records it.
   * @example
   * import { createMetricsRegistry } from '@agentnode/metrics';
   * const metrics = createMetricsRegistry();
   * const latency = metrics.histogram({ name: 'app_query_duration_seconds', help: 'Query time.', labelNames: ['status'] });
   * const timer = metrics.startTimer(latency);
   * timer.stop({ status: 'ok' });
   */
  startTimer<L extends string>(histogram: Histogram<L>, labels?: LabelValues<L>): MetricsTimer<L> {
    return new MetricsTimer(histogram, labels);
  }

  /**
   * Runs `fn` and records its duration in `histogram` with `status` set to
   * `ok` or `error`; an error is rethrown unchanged. Works for sync functions
   * and for functions that return a promise.
   *
   * Note: the histogram must have a `status` label name.
   */
  time<L extends string, T>(
    histogram: Histogram<L>,
    labels: LabelValues<L> | undefined,
    fn: () => Promise<T>,
  ): Promise<T>;
  time<L extends string, T>(
    histogram: Histogram<L>,
    labels: LabelValues<L> | undefined,
    fn: () => T,
  ): T;
  time<L extends string, T>(
    histogram: Histogram<L>,
    labels: LabelValues<L> | undefined,
    fn: () => T | Promise<T>,
  ): T | Promise<T> {
    requireStatusLabel(histogram);
    if (typeof fn !== 'function') {
      throw new MetricsError(
        'INVALID_ARGUMENT',
        `time() needs a function as its third argument, got ${describeValue(fn)}.`,
      );
    }
    const timer = new MetricsTimer<string>(histogram as Histogram<string>, labels);
    let result: T | Promise<T>;
    try {
      result = fn();
    } catch (error) {
      timer.stop({ [STATUS_LABEL]: 'error' });
      throw error;
    }

    if (!isPromiseLike(result)) {
      timer.stop({ [STATUS_LABEL]: 'ok' });
      return result;
    }

    return Promise.resolve(result).then(
      (value) => {
        timer.stop({ [STATUS_LABEL]: 'ok' });
        return value;
      },
      (error: unknown) => {
        timer.stop({ [STATUS_LABEL]: 'error' });
        throw error;
      },
    );
  }

  /** Collects every metric family, with this registry's default labels applied. */
  async collect(): Promise<MetricFamily[]> {
    return (await this.registry.getMetricsAsJSON()) as unknown as MetricFamily[];
  }

  /**
   * Renders the registry as exposition text.
   * @default format 'prometheus'
   */
  async metrics(format: ExpositionFormat = 'prometheus'): Promise<string> {
    return formatMetrics(await this.collect(), format);
  }

  /** Stops the system collector's sampler. Idempotent; metrics stay readable. */
  close(): void {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    this.#stopSystemMetrics?.();
  }

  #getOrCreate<L extends string, M extends Metric<string>>(
    type: MetricType,
    definition: MetricDefinition<L>,
    shape: readonly number[] | undefined,
    create: (name: string, labelNames: L[]) => M,
  ): M {
    const name = this.prefix + validateDefinition(definition, type);
    const labelNames = [...(definition.labelNames ?? [])].sort();
    const existing = this.#definitions.get(name);

    if (existing) {
      if (
        existing.type !== type ||
        !sameList(existing.labelNames, labelNames) ||
        !sameList(existing.shape ?? [], shape ?? [])
      ) {
        throw new MetricsError(
          'METRIC_CONFLICT',
          `Metric "${name}" is already registered as ${describe(existing)}; ` +
            `it cannot be registered again as ${describe({ type, labelNames, shape })}.`,
        );
      }
      return existing.metric as M;
    }

    this.#claimSeries(name, type);
    const metric = create(name, labelNames);
    this.#definitions.set(name, { type, labelNames, shape, metric });

    return metric;
  }

  /**
   * Reserves the sample names a metric writes (`x_sum`, `x_bucket`, ...), so
   * a gauge named `x_sum` cannot sit beside a histogram `x` and corrupt the
   * scrape with two series of one name.
   */
  #claimSeries(name: string, type: MetricType): void {
    const series = SERIES_SUFFIXES[type].map((suffix) => name + suffix);
    for (const seriesName of series) {
      const owner = this.#seriesOwners.get(seriesName);
      if (owner !== undefined) {
        throw new MetricsError(
          'METRIC_CONFLICT',
          `Metric "${name}" (a ${type}) would write samples named "${seriesName}", which metric "${owner}" already writes; choose another name.`,
        );
      }
    }
    for (const seriesName of series) {
      this.#seriesOwners.set(seriesName, name);
    }
  }
}

/**
 * Creates the metrics registry of one node.
 *
 * @example
 * import { createMetricsRegistry } from '@agentnode/metrics';
 * const metrics = createMetricsRegistry({ prefix: 'myapp_', collectSystem: false });
 */
export function createMetricsRegistry(config?: MetricsRegistryConfig): MetricsRegistry {
  return new MetricsRegistry(config);
}

function validateConfig(config: MetricsRegistryConfig): Required<MetricsRegistryConfig> {
  if (typeof config !== 'object' || config === null) {
    throw new MetricsError(
      'INVALID_CONFIG',
      `Metrics config must be an object, got ${String(config)}.`,
    );
  }
  for (const key of Object.keys(config)) {
    if (!CONFIG_KEYS.has(key)) {
      throw new MetricsError(
        'INVALID_CONFIG',
        `Unknown metrics option "${key}"; known options are ${[...CONFIG_KEYS].join(', ')}.`,
      );
    }
  }

  const prefix = config.prefix ?? '';
  if (typeof prefix !== 'string' || (prefix !== '' && !METRIC_NAME.test(prefix))) {
    throw new MetricsError(
      'INVALID_CONFIG',
      `Option "prefix" must match ${METRIC_NAME}, got ${JSON.stringify(prefix)}.`,
    );
  }

  const defaultLabels = config.defaultLabels ?? {};
  for (const [name, value] of Object.entries(defaultLabels)) {
    checkLabelName(name, 'defaultLabels');
    if (typeof value !== 'string') {
      throw new MetricsError(
        'INVALID_CONFIG',
        `Default label "${name}" must be a string, got ${typeof value}.`,
      );
    }
  }

  const collectSystem = config.collectSystem ?? true;
  if (typeof collectSystem !== 'boolean') {
    throw new MetricsError(
      'INVALID_CONFIG',
      `Option "collectSystem" must be a boolean, got ${JSON.stringify(collectSystem)}.`,
    );
  }

  return { prefix, defaultLabels, collectSystem };
}

function validateDefinition(definition: MetricDefinition, type: MetricType): string {
  if (typeof definition !== 'object' || definition === null) {
    throw new MetricsError(
      'INVALID_ARGUMENT',
      `A metric definition must be an object with name and help, got ${describeValue(definition)}.`,
    );
  }
  const { name, help, labelNames } = definition;
  if (typeof name !== 'string' || !METRIC_NAME.test(name)) {
    throw new MetricsError(
      'INVALID_METRIC_NAME',
      `Metric name must match ${METRIC_NAME}, got ${JSON.stringify(name)}.`,
    );
  }
  if (typeof help !== 'string' || help.trim() === '') {
    throw new MetricsError('INVALID_CONFIG', `Metric "${name}" needs a non-empty "help" text.`);
  }
  if (labelNames !== undefined && !Array.isArray(labelNames)) {
    throw new MetricsError(
      'INVALID_CONFIG',
      `Metric "${name}": "labelNames" must be an array of label names, got ${describeValue(labelNames)}.`,
    );
  }

  const seen = new Set<string>();
  const reserved = RESERVED_LABELS[type];
  for (const labelName of labelNames ?? []) {
    checkLabelName(labelName, `metric "${name}"`);
    if (labelName === reserved) {
      throw new MetricsError(
        'INVALID_LABEL_NAME',
        `Label name "${labelName}" is reserved for the samples of a ${type}; rename it in metric "${name}".`,
      );
    }
    if (seen.has(labelName)) {
      throw new MetricsError(
        'INVALID_LABEL_NAME',
        `Label name "${labelName}" appears twice in metric "${name}".`,
      );
    }
    seen.add(labelName);
  }

  return name;
}

function checkLabelName(labelName: unknown, owner: string): void {
  if (typeof labelName !== 'string' || !LABEL_NAME.test(labelName) || labelName.startsWith('__')) {
    throw new MetricsError(
      'INVALID_LABEL_NAME',
      `Label name in ${owner} must match ${LABEL_NAME} and not start with "__", got ${JSON.stringify(labelName)}.`,
    );
  }
}

function validateSortedNumbers(
  field: 'buckets' | 'percentiles',
  definition: HistogramDefinition | SummaryDefinition,
): readonly number[] {
  const values = (definition as unknown as Record<typeof field, readonly number[] | undefined>)[
    field
  ];
  const valid =
    Array.isArray(values) &&
    values.length > 0 &&
    values.every(
      (value, index) =>
        typeof value === 'number' &&
        Number.isFinite(value) &&
        (index === 0 || value > values[index - 1]!) &&
        (field === 'buckets' || (value > 0 && value <= 1)),
    );
  if (!valid) {
    throw new MetricsError(
      'INVALID_CONFIG',
      `Metric "${definition.name}": "${field}" must be a non-empty, strictly increasing list of finite numbers${field === 'percentiles' ? ' in (0, 1]' : ''}, got ${describeValue(values)}.`,
    );
  }

  return values;
}

function requireStatusLabel(histogram: Histogram<string>): void {
  const labelNames = (histogram as unknown as { labelNames?: readonly string[] }).labelNames ?? [];
  if (!labelNames.includes(STATUS_LABEL)) {
    throw new MetricsError(
      'MISSING_STATUS_LABEL',
      `time() records a "${STATUS_LABEL}" label, but histogram "${(histogram as unknown as { name: string }).name}" has labels [${labelNames.join(', ')}]; add "${STATUS_LABEL}" to its labelNames.`,
    );
  }
}

function describe(definition: Pick<RegisteredMetric, 'type' | 'labelNames' | 'shape'>): string {
  const shape = definition.shape
    ? ` and ${definition.type === 'histogram' ? 'buckets' : 'percentiles'} [${definition.shape.join(', ')}]`
    : '';
  return `a ${definition.type} with labels [${definition.labelNames.join(', ')}]${shape}`;
}

/** Describes a value for an error message: its JSON where that is faithful, else its type. */
function describeValue(value: unknown): string {
  if (typeof value === 'function') {
    return 'a function';
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => (typeof item === 'number' ? String(item) : JSON.stringify(item))).join(', ')}]`;
  }
  if (typeof value === 'string') {
    return JSON.stringify(value);
  }
  if (value === null || typeof value !== 'object') {
    return `${String(value)} (${value === null ? 'null' : typeof value})`;
  }

  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
}

function sameList<T>(left: readonly T[], right: readonly T[]): boolean {
  return left.length === right.length && left.every((value, index) => value === right[index]);
}

function isPromiseLike<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
