/**
 * The container pool suite. It times a warm call through each runner (BusyBox `sh` and
 * Node.js) against a cold `docker run` and a `docker exec` of the same command. It also times
 * 200 short calls on a pool of 4 against `docker exec` calls 4 at a time.
 *
 * The baselines talk to the engine through dockerode, the same client the pool uses, with
 * the same sandbox options (no network, no logging driver), so the ratios compare mechanisms
 * and not client overheads. Images are imported from local binaries (`buildLocalImage`).
 */
import type { Duplex } from 'node:stream';
import {
  buildLocalImage,
  busyboxRootfs,
  type ContainerPool,
  type ContainerSpec,
  createContainerPool,
  nodeRootfs,
} from '@agentnode/container-pool';
import Docker from 'dockerode';
import { type BenchRow, type CompareSpec, type SuiteOptions, skippedRow } from './harness';

const AREA = 'Containers';
const BENCH_LABEL = 'agentnode-bench';

interface Command {
  readonly runner: 'sh' | 'node';
  readonly image: string;
  /** Code sent through the pool's runner. */
  readonly code: string;
  /** The same work as a process command line, for `docker run` and `docker exec`. */
  readonly argv: readonly string[];
}

/** Times warm calls against cold runs and execs, and pool throughput. */
export async function run(options: SuiteOptions): Promise<BenchRow[]> {
  const docker = new Docker();
  const unavailable = await docker.ping().then(
    () => undefined,
    (error: Error) => `no Docker engine responds (${error.message})`,
  );
  if (unavailable) return skippedRows(unavailable);

  const [sh, node] = await Promise.all([
    buildLocalImage({ repository: 'agentnode-test/busybox', ...(await busyboxRootfs()) }),
    buildLocalImage({ repository: 'agentnode-test/node', ...(await nodeRootfs()) }),
  ]);
  const commands: Command[] = [
    { runner: 'sh', image: sh.image, code: 'echo hi', argv: ['sh', '-c', 'echo hi'] },
    {
      runner: 'node',
      image: node.image,
      code: "console.log('hi')",
      argv: ['node', '-e', "console.log('hi')"],
    },
  ];

  const label = `${BENCH_LABEL}=${process.pid}`;
  const pool = createContainerPool({
    name: `bench-${process.pid}`,
    labels: { [BENCH_LABEL]: String(process.pid) },
  });
  try {
    const rows: BenchRow[] = [];
    for (const command of commands)
      rows.push(...(await warmVersusCold(docker, pool, command, options)));
    rows.push(await throughput(docker, pool, commands[0]!, options));
    return rows;
  } finally {
    await pool.close();
    const leftovers = await docker.listContainers({ all: true, filters: { label: [label] } });
    await Promise.all(
      leftovers.map((container) => docker.getContainer(container.Id).remove({ force: true })),
    );
  }
}

async function warmVersusCold(
  docker: Docker,
  pool: ContainerPool,
  command: Command,
  options: SuiteOptions,
): Promise<BenchRow[]> {
  const spec: ContainerSpec = { image: command.image, runner: command.runner, min: 1, max: 1 };
  await pool.warm(spec);
  const warmCall = () => pool.run(spec, { code: command.code, timeoutMs: 30_000 });
  const warm = await sample(warmCall, options.quick ? 100 : 1_000, 20);

  const cold = await sample(() => dockerRun(docker, command), options.quick ? 3 : 20, 1);

  const target = await startIdle(docker, command.image);
  const exec = await sample(() => dockerExec(target, command.argv), options.quick ? 6 : 50, 2);
  await target.remove({ force: true });

  const name = `warm call through the ${command.runner} runner (${command.code})`;
  return [
    row(
      {
        area: AREA,
        operation: `${name} vs cold docker run`,
        target: 'at least 100x faster',
        meets: (ratio) => ratio <= 0.01,
      },
      warm,
      'cold docker run (create, attach, start, wait, remove)',
      cold,
    ),
    row(
      {
        area: AREA,
        operation: `${name} vs docker exec`,
        target: 'at least 10x faster',
        meets: (ratio) => ratio <= 0.1,
      },
      warm,
      'docker exec into a running container',
      exec,
    ),
  ];
}

/**
 * 200 short calls, 4 at a time, on a pool of 4, against execs 4 at a time into 4 containers
 * (200 of them, or 48 in a quick run, where 200 would take most of the time budget).
 */
async function throughput(
  docker: Docker,
  pool: ContainerPool,
  command: Command,
  options: SuiteOptions,
): Promise<BenchRow> {
  const spec: ContainerSpec = { image: command.image, runner: command.runner, min: 4, max: 4 };
  await pool.warm(spec);
  const poolRound = await sample(
    () => inParallel(200, 4, () => pool.run(spec, { code: command.code })),
    options.quick ? 1 : 5,
    1,
  );

  const execCalls = options.quick ? 48 : 200;
  const targets = await Promise.all([0, 1, 2, 3].map(() => startIdle(docker, command.image)));
  let next = 0;
  const execRound = await sample(
    () => inParallel(execCalls, 4, () => dockerExec(targets[next++ % 4]!, command.argv)),
    1,
    0,
  );
  await Promise.all(targets.map((target) => target.remove({ force: true })));

  const poolPerCall = poolRound.map((time) => time / 200);
  const execPerCall = execRound.map((time) => time / execCalls);
  return row(
    {
      area: AREA,
      operation: `throughput of 200 short calls (${command.code}) on a pool of 4, per call`,
      target: 'at least 10x faster',
      meets: (ratio) => ratio <= 0.1,
      note: `${Math.round(1e9 / median(poolPerCall))} calls/s through the pool, ${Math.round(1e9 / median(execPerCall))} calls/s through docker exec`,
    },
    poolPerCall,
    `${execCalls} docker exec calls, 4 at a time into 4 containers, per call`,
    execPerCall,
  );
}

/** Creates, attaches, starts and removes a container running `argv`, reading its output. */
async function dockerRun(docker: Docker, command: Command): Promise<void> {
  const [entrypoint, ...args] = command.argv;
  const container = await docker.createContainer({
    Image: command.image,
    Entrypoint: [entrypoint!],
    Cmd: args,
    AttachStdout: true,
    AttachStderr: true,
    Labels: { [BENCH_LABEL]: String(process.pid) },
    HostConfig: { NetworkMode: 'none', LogConfig: { Type: 'none', Config: {} } },
  });
  const stream = (await container.attach({
    stream: true,
    stdout: true,
    stderr: true,
    hijack: true,
  })) as unknown as Duplex;
  const ended = drain(stream);
  const exited = container.wait();
  await container.start();
  await Promise.all([ended, exited]);
  await container.remove({ force: true });
}

/** Runs `argv` in `container` through the exec API and waits for it to finish. */
async function dockerExec(container: Docker.Container, argv: readonly string[]): Promise<void> {
  const exec = await container.exec({ Cmd: [...argv], AttachStdout: true, AttachStderr: true });
  const stream = (await exec.start({ hijack: true, stdin: false })) as unknown as Duplex;
  await drain(stream);
  const info = await exec.inspect();
  if (info.ExitCode !== 0)
    throw new Error(`docker exec of ${argv.join(' ')} exited with ${info.ExitCode}.`);
}

async function startIdle(docker: Docker, image: string): Promise<Docker.Container> {
  const container = await docker.createContainer({
    Image: image,
    Entrypoint: image.includes('/node:')
      ? ['node', '-e', 'setInterval(() => {}, 1e9)']
      : ['sleep', '3600'],
    Labels: { [BENCH_LABEL]: String(process.pid) },
    HostConfig: { NetworkMode: 'none', LogConfig: { Type: 'none', Config: {} } },
  });
  await container.start();
  return container;
}

function drain(stream: Duplex): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
    stream.resume();
  });
}

async function inParallel(
  total: number,
  concurrency: number,
  task: () => Promise<unknown>,
): Promise<void> {
  let started = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < total) {
        started += 1;
        await task();
      }
    }),
  );
}

/** Runs `fn` `warmup` times untimed, then `count` times timed; returns nanoseconds per run. */
async function sample(
  fn: () => Promise<unknown>,
  count: number,
  warmup: number,
): Promise<number[]> {
  for (let index = 0; index < warmup; index += 1) await fn();
  const times: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const started = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - started));
  }
  return times;
}

function row(
  spec: CompareSpec,
  subject: number[],
  baseline: string,
  reference: number[],
): BenchRow {
  const ratio = median(subject) / median(reference);
  return {
    area: spec.area,
    operation: spec.operation,
    median: median(subject),
    p99: percentile(subject, 0.99),
    unit: 'ns',
    baseline,
    baselineMedian: median(reference),
    ratio,
    ...(spec.target !== undefined && { target: spec.target }),
    ...(spec.meets && { met: spec.meets(ratio) }),
    ...(spec.note !== undefined && { note: spec.note }),
  };
}

function median(values: readonly number[]): number {
  return percentile(values, 0.5);
}

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

function skippedRows(reason: string): BenchRow[] {
  const rows: [CompareSpec, string][] = [];
  for (const runner of ['sh', 'node']) {
    const name = `warm call through the ${runner} runner`;
    rows.push([
      { area: AREA, operation: `${name} vs cold docker run`, target: 'at least 100x faster' },
      'cold docker run',
    ]);
    rows.push([
      { area: AREA, operation: `${name} vs docker exec`, target: 'at least 10x faster' },
      'docker exec into a running container',
    ]);
  }
  rows.push([
    {
      area: AREA,
      operation: 'throughput of 200 short calls on a pool of 4, per call',
      target: 'at least 10x faster',
    },
    '200 docker exec calls, 4 at a time',
  ]);
  return rows.map(([spec, baseline]) => skippedRow(spec, baseline, reason));
}
