import { Bench } from 'tinybench';

/** One row of the benchmark report: a subject, its same-run baseline and their ratio. */
export interface BenchRow {
  /** Table the row belongs to, for example 'Database' or 'WASM runtime'. */
  area: string;
  operation: string;
  /** The "after" figure the reference node claims for this operation, as text. */
  claimedAfter?: string;
  /** Median time per operation of agentnode's subject. */
  median: number;
  /** 99th percentile time per operation (per batch mean when the subject is batched). */
  p99: number;
  unit: 'ns';
  /** Name of the baseline, for example 'raw better-sqlite3 prepared statement'. */
  baseline: string;
  baselineMedian: number;
  /** `median / baselineMedian`, unless `target` defines the ratio another way. */
  ratio: number;
  /** The target in words, for example 'at most 1.3x'. */
  target?: string;
  /** Whether the measured ratio meets the target. */
  met?: boolean;
  note?: string;
}

/** Options every suite's `run` receives. */
export interface SuiteOptions {
  /** Short runs for CI smoke tests: the whole suite in well under 30 s. */
  quick: boolean;
}

/** A benchmark suite module: `benchmarks/<area>.bench.ts` exports `run`. */
export type SuiteRun = (options: SuiteOptions) => Promise<BenchRow[]>;

/** A function to time. `batch` repeats the operation inside one sample for sub-microsecond work. */
export interface BenchSubject {
  name: string;
  fn: () => unknown;
  /** Operations per call of `fn`; times are divided by it. @default 1 */
  batch?: number;
}

/** Median and p99 per operation, in nanoseconds. */
export interface Measurement {
  median: number;
  p99: number;
  samples: number;
}

/**
 * Times `subjects` one after another in one tinybench run and returns their
 * per-operation medians and p99s in nanoseconds.
 */
export async function measure(
  subjects: readonly BenchSubject[],
  options: SuiteOptions,
  share = 1,
): Promise<Measurement[]> {
  (globalThis as { gc?: () => void }).gc?.();
  const bench = new Bench({
    time: (options.quick ? 150 : 1_000) / share,
    iterations: Math.ceil((options.quick ? 10 : 64) / share),
    warmup: true,
    throws: true,
  });
  for (const subject of subjects) {
    bench.add(subject.name, subject.fn);
  }

  await bench.run();

  return bench.tasks.map((task, index) => {
    const result = task.result;
    if (result.state !== 'completed') {
      throw new Error(`Benchmark task "${task.name}" ended in state ${result.state}.`);
    }
    const batch = subjects[index]?.batch ?? 1;
    return {
      median: (result.latency.p50 * 1e6) / batch,
      p99: (result.latency.p99 * 1e6) / batch,
      samples: result.latency.samplesCount,
    };
  });
}

/** Row description and the rule that judges its ratio against the target. */
export interface CompareSpec {
  area: string;
  operation: string;
  claimedAfter?: string;
  /** The target in words, shown in the report. */
  target?: string;
  /** Decides whether the ratio (subject / baseline) meets the target. */
  meets?: (ratio: number) => boolean;
  note?: string;
}

/** Rounds of subject and baseline in a full run; a quick run does one. */
const ROUNDS = 5;

/**
 * Times a subject against its baseline in the same run and builds the report row.
 *
 * A full run measures them in {@link ROUNDS} alternating rounds (subject first, then
 * baseline first, and so on), each a fifth of the time budget, and reports the medians
 * across rounds. On a shared machine whose speed drifts, the two sides then see the same
 * drift, instead of one side running in a slow stretch and the other in a fast one.
 */
export async function compare(
  spec: CompareSpec,
  subject: BenchSubject,
  baseline: BenchSubject,
  options: SuiteOptions,
): Promise<BenchRow> {
  const rounds = options.quick ? 1 : ROUNDS;
  const subjects: Measurement[] = [];
  const baselines: Measurement[] = [];
  for (let round = 0; round < rounds; round++) {
    const subjectFirst = round % 2 === 0;
    const [first, second] = await measure(
      subjectFirst ? [subject, baseline] : [baseline, subject],
      options,
      rounds,
    );
    if (!first || !second) {
      throw new Error(`Benchmark "${spec.operation}" produced no result.`);
    }
    subjects.push(subjectFirst ? first : second);
    baselines.push(subjectFirst ? second : first);
  }
  const measured = medianMeasurement(subjects);
  const reference = medianMeasurement(baselines);

  const ratio = measured.median / reference.median;
  return {
    area: spec.area,
    operation: spec.operation,
    ...(spec.claimedAfter !== undefined && { claimedAfter: spec.claimedAfter }),
    median: measured.median,
    p99: measured.p99,
    unit: 'ns',
    baseline: baseline.name,
    baselineMedian: reference.median,
    ratio,
    ...(spec.target !== undefined && { target: spec.target }),
    ...(spec.meets && { met: spec.meets(ratio) }),
    ...(spec.note !== undefined && { note: spec.note }),
  };
}

/** Returns the median of each field over several measurements of one subject, with samples summed. */
function medianMeasurement(measurements: readonly Measurement[]): Measurement {
  const middle = (values: number[]) => {
    const sorted = values.sort((a, b) => a - b);
    const half = sorted.length >> 1;
    return sorted.length % 2 === 1 ? sorted[half]! : (sorted[half - 1]! + sorted[half]!) / 2;
  };
  return {
    median: middle(measurements.map((measurement) => measurement.median)),
    p99: middle(measurements.map((measurement) => measurement.p99)),
    samples: measurements.reduce((total, measurement) => total + measurement.samples, 0),
  };
}

/** Builds the row of a measurement that could not run here (for example, no Docker engine). */
export function skippedRow(spec: CompareSpec, baseline: string, reason: string): BenchRow {
  return {
    area: spec.area,
    operation: spec.operation,
    ...(spec.claimedAfter !== undefined && { claimedAfter: spec.claimedAfter }),
    median: Number.NaN,
    p99: Number.NaN,
    unit: 'ns',
    baseline,
    baselineMedian: Number.NaN,
    ratio: Number.NaN,
    ...(spec.target !== undefined && { target: spec.target }),
    note: `not measured: ${reason}`,
  };
}

/** Formats nanoseconds with a readable unit: `850 ns`, `4.2 µs`, `12.3 ms`, `1.05 s`. */
export function formatDuration(nanoseconds: number): string {
  if (!Number.isFinite(nanoseconds)) {
    return 'n/a';
  }
  if (nanoseconds < 1_000) {
    return `${nanoseconds.toFixed(nanoseconds < 10 ? 1 : 0)} ns`;
  }
  if (nanoseconds < 1_000_000) {
    return `${(nanoseconds / 1_000).toFixed(nanoseconds < 10_000 ? 2 : 1)} µs`;
  }
  if (nanoseconds < 1_000_000_000) {
    return `${(nanoseconds / 1_000_000).toFixed(nanoseconds < 10_000_000 ? 2 : 1)} ms`;
  }

  return `${(nanoseconds / 1_000_000_000).toFixed(2)} s`;
}
