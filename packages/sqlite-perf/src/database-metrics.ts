import type { Counter, Gauge, Histogram, MetricsRegistry } from '@agentnode/metrics';
import type { CheckpointResult } from './checkpoint-policy';

/** The label values of `agentnode_db_query_duration_seconds`'s `operation`. */
export type DatabaseOperation = 'read' | 'write' | 'query' | 'insert_many' | 'transaction';

/** Figures a database handle reports when metrics are scraped. */
export interface DatabaseGauges {
  readonly readers: { readonly size: number; readonly inUse: number };
  readonly workers: { readonly size: number; readonly inUse: number };
  readonly writerInUse: boolean;
  readonly writeQueueDepth: number;
  readonly statementCache: { readonly hits: number; readonly misses: number };
  readonly walBytes: number;
}

/** A database handle as seen by the collectors. */
export interface GaugeSource {
  readonly name: string;
  gauges(): DatabaseGauges;
}

const NS_PER_SECOND = 1e9;

// Every database handle on one registry shares the metric objects (registration is
// get-or-create), so the scrape-time collectors iterate all live handles.
const sourcesByRegistry = new WeakMap<MetricsRegistry, Set<GaugeSource>>();

/**
 * The `agentnode_db_*` metrics of one database handle. Without a registry every
 * method returns at once and nothing is allocated per call.
 */
export class DatabaseMetrics {
  readonly #labels: { database: string };
  readonly #duration: Histogram<'database' | 'operation' | 'status'> | undefined;
  readonly #acquireWait: Histogram<'database'> | undefined;
  readonly #busyRetries: Counter<'database' | 'operation'> | undefined;
  readonly #checkpoints: Counter<'database' | 'mode' | 'result'> | undefined;
  readonly #replaced: Counter<'database' | 'role'> | undefined;
  readonly #registry: MetricsRegistry | undefined;
  readonly #source: GaugeSource;

  constructor(registry: MetricsRegistry | undefined, source: GaugeSource) {
    this.#registry = registry;
    this.#source = source;
    this.#labels = { database: source.name };
    if (registry === undefined) {
      return;
    }
    this.#duration = registry.histogram({
      name: 'agentnode_db_query_duration_seconds',
      help: 'Time from a database call to its result, by operation and status.',
      labelNames: ['database', 'operation', 'status'],
      buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    });
    this.#acquireWait = registry.histogram({
      name: 'agentnode_db_pool_acquire_wait_seconds',
      help: 'Time a read waited for a reader connection from the pool.',
      labelNames: ['database'],
      buckets: [0.00001, 0.0001, 0.001, 0.01, 0.1, 1, 10],
    });
    this.#busyRetries = registry.counter({
      name: 'agentnode_db_busy_retries_total',
      help: 'Transactions restarted after SQLITE_BUSY or SQLITE_LOCKED.',
      labelNames: ['database', 'operation'],
    });
    this.#checkpoints = registry.counter({
      name: 'agentnode_db_checkpoints_total',
      help: 'WAL checkpoints by mode and result (ok, partial, starved).',
      labelNames: ['database', 'mode', 'result'],
    });
    this.#replaced = registry.counter({
      name: 'agentnode_db_connections_replaced_total',
      help: 'Connections discarded because they failed or went stale, and replaced.',
      labelNames: ['database', 'role'],
    });
    this.#registerGauges(registry);
    let sources = sourcesByRegistry.get(registry);
    if (sources === undefined) {
      sources = new Set();
      sourcesByRegistry.set(registry, sources);
    }
    sources.add(source);
  }

  /** Whether a registry was given; callers skip timing when not. */
  get enabled(): boolean {
    return this.#registry !== undefined;
  }

  /** Records one call's duration. */
  observeQuery(operation: DatabaseOperation, status: 'ok' | 'error', durationNs: bigint): void {
    this.#duration?.observe(
      { ...this.#labels, operation, status },
      Number(durationNs) / NS_PER_SECOND,
    );
  }

  /** Records how long a read waited for a reader. */
  observeAcquireWait(waitNs: bigint): void {
    this.#acquireWait?.observe(this.#labels, Number(waitNs) / NS_PER_SECOND);
  }

  /** Counts one transaction restart. */
  countBusyRetry(operation: DatabaseOperation): void {
    this.#busyRetries?.inc({ ...this.#labels, operation });
  }

  /** Counts one checkpoint. */
  countCheckpoint(result: CheckpointResult): void {
    this.#checkpoints?.inc({ ...this.#labels, mode: result.mode, result: result.result });
  }

  /** Counts one replaced connection. */
  countReplaced(role: string): void {
    this.#replaced?.inc({ ...this.#labels, role });
  }

  /** Stops reporting this handle's gauges. */
  detach(): void {
    if (this.#registry !== undefined) {
      sourcesByRegistry.get(this.#registry)?.delete(this.#source);
    }
  }

  #registerGauges(registry: MetricsRegistry): void {
    const eachSource = (visit: (name: string, gauges: DatabaseGauges) => void) => {
      for (const source of sourcesByRegistry.get(registry) ?? []) {
        visit(source.name, source.gauges());
      }
    };
    registry.gauge({
      name: 'agentnode_db_pool_connections',
      help: 'Open connections by role (writer, reader, worker) and state (idle, in_use).',
      labelNames: ['database', 'role', 'state'],
      collect(this: Gauge<'database' | 'role' | 'state'>) {
        this.reset();
        eachSource((database, gauges) => {
          const set = (role: string, size: number, inUse: number) => {
            this.set({ database, role, state: 'in_use' }, inUse);
            this.set({ database, role, state: 'idle' }, Math.max(0, size - inUse));
          };
          set('writer', 1, gauges.writerInUse ? 1 : 0);
          set('reader', gauges.readers.size, gauges.readers.inUse);
          set('worker', gauges.workers.size, gauges.workers.inUse);
        });
      },
    });
    registry.gauge({
      name: 'agentnode_db_write_queue_depth',
      help: 'Write transactions queued or running on the single writer.',
      labelNames: ['database'],
      collect(this: Gauge<'database'>) {
        this.reset();
        eachSource((database, gauges) => this.set({ database }, gauges.writeQueueDepth));
      },
    });
    registry.counter({
      name: 'agentnode_db_statement_cache_lookups_total',
      help: 'Prepared-statement cache lookups on every connection, reader workers included, by result (hit, miss).',
      labelNames: ['database', 'result'],
      collect(this: Counter<'database' | 'result'>) {
        this.reset();
        eachSource((database, gauges) => {
          this.inc({ database, result: 'hit' }, gauges.statementCache.hits);
          this.inc({ database, result: 'miss' }, gauges.statementCache.misses);
        });
      },
    });
    registry.gauge({
      name: 'agentnode_db_statement_cache_hit_ratio',
      help: 'Share of prepared-statement lookups served from the cache (0 to 1).',
      labelNames: ['database'],
      collect(this: Gauge<'database'>) {
        this.reset();
        eachSource((database, gauges) => {
          const { hits, misses } = gauges.statementCache;
          this.set({ database }, hits + misses === 0 ? 0 : hits / (hits + misses));
        });
      },
    });
    registry.gauge({
      name: 'agentnode_db_wal_size_bytes',
      help: 'Size of the write-ahead log file.',
      labelNames: ['database'],
      collect(this: Gauge<'database'>) {
        this.reset();
        eachSource((database, gauges) => this.set({ database }, gauges.walBytes));
      },
    });
  }
}
