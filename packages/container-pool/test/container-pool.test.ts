import { createMetricsRegistry } from '@agentnode/metrics';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContainerSpec, isContainerPoolError, SH_RUNNER_SOURCE } from '../src/index';
import { dockerAvailable, eventually, listContainers, testImages, testPools } from './images';

const hasDocker = await dockerAvailable();
const pools = testPools('pool');

describe.skipIf(!hasDocker)('ContainerPool.run', () => {
  let sh: ContainerSpec;
  let node: ContainerSpec;

  beforeAll(async () => {
    const images = await testImages();
    sh = { image: images.sh, runner: 'sh', min: 1, max: 2 };
    node = { image: images.node, runner: 'node', min: 1, max: 2 };
  });
  afterAll(() => pools.cleanup());

  it('returns the stdin of cat exactly', async () => {
    const pool = pools.create();
    const result = await pool.run(sh, { code: 'cat', input: 'a\nb\n', timeoutMs: 10_000 });

    expect(result.output).toBe('a\nb\n');
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.durationMs).toBeGreaterThan(0);
  });

  it('stops endless output at the deadline and replaces the container', async () => {
    const pool = pools.create();
    await pool.warm(sh);
    const first = await pool.run(sh, { code: 'echo ready' });

    const endless = pool.run(sh, { code: 'while :; do echo y; done > /dev/null', timeoutMs: 500 });
    await expect(endless).rejects.toMatchObject({
      code: 'TIMEOUT',
      details: { containerId: first.containerId },
    });
    await expect(endless).rejects.toThrow(/timed out after 500 ms \(timeoutMs\) while running\.$/);

    const after = await pool.run(sh, { code: 'echo still here', timeoutMs: 10_000 });
    expect(after.output).toBe('still here\n');
    expect(after.containerId).not.toBe(first.containerId);
    const gone = await eventually(async () =>
      (await listContainers([`agentnode.pool=${pool.name}`])).every(
        (c) => c.Id !== first.containerId,
      ),
    );
    expect(gone).toBe(true);
  });

  it('kills and replaces the container on abort', async () => {
    const pool = pools.create();
    const controller = new AbortController();
    const call = pool.run(sh, { code: 'sleep 30', signal: controller.signal });
    setTimeout(() => controller.abort(), 300);

    await expect(call).rejects.toMatchObject({ code: 'ABORTED' });
    const after = await pool.run(sh, { code: 'echo ok' });
    expect(after.output).toBe('ok\n');
  });

  it('rejects an abort while waiting for a container', async () => {
    const pool = pools.create();
    const spec = { ...sh, min: 1, max: 1 };
    await pool.warm(spec);
    const busy = pool.run(spec, { code: 'sleep 1; echo done' });
    const controller = new AbortController();
    const waiting = pool.run(spec, { code: 'true', signal: controller.signal });
    await eventually(() => pool.stats().specs[0]?.waiting === 1);
    controller.abort();

    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(waiting).rejects.toThrow(/aborted while waiting for a container/);
    expect(pool.stats().specs[0]?.waiting).toBe(0);
    expect((await busy).output).toBe('done\n');
  });

  it('fails with OUTPUT_LIMIT past maxOutputBytes and keeps the container', async () => {
    const pool = pools.create();
    const error = await pool
      .run(sh, { code: 'yes', maxOutputBytes: 64, timeoutMs: 10_000 })
      .catch((caught: unknown) => caught);

    expect(isContainerPoolError(error, 'OUTPUT_LIMIT')).toBe(true);
    const partial = (error as { details: { partialOutput?: string } }).details.partialOutput;
    expect(partial).toBe('y\n'.repeat(32));
    const next = await pool.run(sh, { code: 'echo fine' });
    expect(next.containerId).toBe(
      (error as { details: { containerId?: string } }).details.containerId,
    );
  });

  it('returns a non-zero exit code and stderr as a result', async () => {
    const pool = pools.create();
    const result = await pool.run(sh, { code: 'echo oops >&2; exit 7' });

    expect(result.exitCode).toBe(7);
    expect(result.stderr).toBe('oops\n');
    expect(result.output).toBe('');
  });

  it('computes a SHA-256 digest and gzip size in the sandbox', async () => {
    const pool = pools.create();
    const text = 'The quick brown fox jumps over the lazy dog';
    const result = await pool.run(sh, {
      code: 'sha256sum | cut -d" " -f1; gzip -c "$0" 2>/dev/null | wc -c',
      input: text,
    });
    const toolResult = await pool.run(sh, {
      code: 'cat > input.txt; sha256sum < input.txt | cut -d" " -f1; gzip -9 -c input.txt | wc -c',
      input: text,
    });

    expect(result.exitCode).toBe(0);
    const [digest, gzipBytes] = toolResult.output.trim().split('\n');
    expect(digest).toBe('d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592');
    expect(Number(gzipBytes)).toBeGreaterThan(text.length / 2);
  });

  it('runs JavaScript in the node runner', async () => {
    const pool = pools.create();
    const result = await pool.run(node, {
      code: "console.log('len', input.length); return require('node:crypto').createHash('sha256').update(input).digest('hex');",
      input: 'abc',
    });
    const failed = await pool.run(node, { code: "throw new Error('boom')" });
    const exited = await pool.run(node, { code: 'exit(3)' });

    expect(result.output).toBe(
      'len 3\nba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toContain('Error: boom');
    expect(exited.exitCode).toBe(3);
  });

  it('rejects an already aborted call', async () => {
    const pool = pools.create();
    const first = await pool.run(sh, { code: 'true' });

    await expect(pool.run(sh, { code: 'true', signal: AbortSignal.abort() })).rejects.toMatchObject(
      { code: 'ABORTED' },
    );
    const next = await pool.run(sh, { code: 'true' });
    expect(next.containerId).toBe(first.containerId);
  });

  it('warms configured specs in start without blocking later calls', async () => {
    const pool = pools.create({
      specs: [{ image: 'agentnode-test/missing:none', runner: 'sh', min: 1 }],
    });

    await expect(pool.start()).rejects.toMatchObject({ code: 'CONTAINER_START_FAILED' });
    const result = await pool.run(sh, { code: 'echo ok' });
    expect(result.output).toBe('ok\n');
  });

  it('rejects invalid options with INVALID_CONFIG', async () => {
    const pool = pools.create();

    await expect(pool.run(sh, { code: 'true', timeoutMs: 0 })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
    });
    await expect(pool.run({ ...sh, min: 3, max: 2 }, { code: 'true' })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
    });
    await expect(pool.run({ ...sh, image: '' }, { code: 'true' })).rejects.toThrow(/spec\.image/);
    await expect(pool.run(sh, { code: 42 as unknown as string })).rejects.toThrow(/options\.code/);
  });

  it('fails with CONTAINER_START_FAILED for a missing image', async () => {
    const pool = pools.create();
    const call = pool.run(
      { image: 'agentnode-test/missing:none', runner: 'sh' },
      { code: 'true', timeoutMs: 10_000 },
    );

    await expect(call).rejects.toMatchObject({ code: 'CONTAINER_START_FAILED' });
    await expect(call).rejects.toThrow(
      /HTTP 404: No such image: agentnode-test\/missing:none\. The pool never pulls images: run "docker pull agentnode-test\/missing:none"/,
    );
  });

  it('fails with CONTAINER_UNHEALTHY when the runner exits at once', async () => {
    const pool = pools.create();
    const call = pool.run(
      { ...sh, runner: { command: ['sh', '-c', 'exit 3'] } },
      { code: 'true', timeoutMs: 10_000 },
    );

    await expect(call).rejects.toMatchObject({ code: 'CONTAINER_UNHEALTHY' });
    await expect(call).rejects.toThrow(/failed its readiness probe: .*[^.]\.$/);
    await expect(call).rejects.not.toThrow(/\.\./);
  });

  it('explains a network missing on the engine', async () => {
    const pool = pools.create();
    const call = pool.run({ ...sh, network: 'agentnode-test-missing' }, { code: 'true' });

    await expect(call).rejects.toMatchObject({ code: 'CONTAINER_START_FAILED' });
    await expect(call).rejects.toThrow(
      /HTTP 404: network agentnode-test-missing not found\. The spec's network "agentnode-test-missing" does not exist on this engine/,
    );
    await expect(call).rejects.not.toThrow(/no such container/);
  });

  it('logs no warning for starts that close() cuts short', async () => {
    const warnings: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn: (message: string) => warnings.push(message),
      error: (message: string) => warnings.push(message),
    };
    const pool = pools.create({ logger });
    // The runner starts 2 s late, so close() lands while the readiness ping waits for it.
    const slow: ContainerSpec = {
      ...sh,
      min: 2,
      runner: { command: ['sh', '-c', 'sleep 2; exec sh -c "$0"', SH_RUNNER_SOURCE] },
    };
    const warming = pool.warm(slow).catch((error: unknown) => error);
    const running = await eventually(
      async () =>
        (await listContainers([`agentnode.pool=${pool.name}`], { running: true })).length === 2,
    );
    await pool.close();

    expect(running).toBe(true);
    expect(warnings).toEqual([]);
    expect(isContainerPoolError(await warming, 'POOL_CLOSED')).toBe(true);
  });

  it('fails with POOL_CLOSED after close', async () => {
    const pool = pools.create();
    await pool.warm(sh);
    await pool.close();

    await expect(pool.run(sh, { code: 'true' })).rejects.toMatchObject({ code: 'POOL_CLOSED' });
    expect(await listContainers([`agentnode.pool=${pool.name}`])).toEqual([]);
  });

  it('rejects a waiting call with POOL_CLOSED when the pool closes', async () => {
    const pool = pools.create();
    const spec = { ...sh, min: 1, max: 1 };
    await pool.warm(spec);
    const busy = pool.run(spec, { code: 'sleep 5' }).catch((error: unknown) => error);
    const waiting = pool.run(spec, { code: 'true' }).catch((error: unknown) => error);
    await eventually(() => pool.stats().specs[0]?.waiting === 1);
    await pool.close();

    expect(isContainerPoolError(await waiting, 'POOL_CLOSED')).toBe(true);
    expect(isContainerPoolError(await busy)).toBe(true);
  });
});

describe.skipIf(!hasDocker)('ContainerPool sandbox', () => {
  afterAll(() => pools.cleanup());

  it('applies the sandbox defaults and labels', async () => {
    const { sh: image } = await testImages();
    const pool = pools.create({ nodeId: 'node-a' });
    const result = await pool.run(
      { image, runner: 'sh' },
      { code: 'id -u; touch /etc/x 2>/dev/null || echo read-only; echo hi > note && cat note' },
    );
    const info = await new Docker().getContainer(result.containerId).inspect();
    const host = info.HostConfig;

    expect(result.output).toBe('65534\nread-only\nhi\n');
    expect(host.NetworkMode).toBe('none');
    expect(host.CapDrop).toEqual(['ALL']);
    expect(host.SecurityOpt).toEqual(['no-new-privileges']);
    expect(host.Memory).toBe(512 * 1024 * 1024);
    expect(host.NanoCpus).toBe(1e9);
    expect(host.PidsLimit).toBe(128);
    expect(host.ReadonlyRootfs).toBe(true);
    expect(Object.keys(host.Tmpfs ?? {}).sort()).toEqual(['/tmp', '/workspace']);
    expect(info.Config.Labels['agentnode.pool']).toBe(pool.name);
    expect(info.Config.Labels['agentnode.node']).toBe('node-a');
  });

  it('loosens a default only when the spec says so', async () => {
    const { sh: image } = await testImages();
    const pool = pools.create();
    const spec: ContainerSpec = {
      image,
      runner: 'sh',
      readOnlyRootfs: false,
      user: '0:0',
      pidsLimit: 64,
      memoryBytes: 256 * 1024 * 1024,
      capAdd: ['CHOWN'],
    };
    const result = await pool.run(spec, { code: 'id -u; touch /etc/x && echo writable' });
    const host = (await new Docker().getContainer(result.containerId).inspect()).HostConfig;

    expect(result.output).toBe('0\nwritable\n');
    expect(host.ReadonlyRootfs).toBe(false);
    expect(host.PidsLimit).toBe(64);
    expect(host.Memory).toBe(256 * 1024 * 1024);
    expect(host.CapAdd).toEqual(['CHOWN']);
    expect(host.NetworkMode).toBe('none');
  });

  it('enforces the PID limit', async () => {
    const { sh: image } = await testImages();
    const pool = pools.create();
    const result = await pool.run(
      { image, runner: 'sh', pidsLimit: 8 },
      {
        code: 'i=0; while [ $i -lt 20 ]; do sleep 1 </dev/null >/dev/null 2>&1 & i=$((i+1)); done; echo spawned all',
        timeoutMs: 20_000,
      },
    );

    expect(result.output).toBe('');
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/can't fork/);
  });
});

describe.skipIf(!hasDocker)('ContainerPool scaling and health', () => {
  afterAll(() => pools.cleanup());

  it('keeps min warm, caps at max and queues the rest', async () => {
    const { sh: image } = await testImages();
    const metrics = createMetricsRegistry({ collectSystem: false });
    const pool = pools.create({ metrics });
    const spec: ContainerSpec = { image, runner: 'sh', min: 2, max: 3 };
    await pool.warm(spec);
    expect(pool.stats().specs[0]).toMatchObject({ idle: 2, starting: 0 });

    const results = await Promise.all(
      Array.from({ length: 9 }, () =>
        pool.run(spec, { code: 'sleep 0.3; echo done', timeoutMs: 20_000 }),
      ),
    );
    const containers = new Set(results.map((result) => result.containerId));

    expect(results.every((result) => result.output === 'done\n')).toBe(true);
    expect(containers.size).toBe(3);
    const text = await metrics.metrics();
    expect(text).toMatch(/agentnode_container_acquire_waits_total\{spec="[^"]+"\} [1-9]/);
    expect(text).toMatch(/agentnode_container_cold_starts_total\{spec="[^"]+"\} 1/);
    expect(text).toMatch(
      /agentnode_container_start_duration_seconds_count\{spec="[^"]+",engine="local",outcome="ok"\} 3/,
    );
    expect(text).toMatch(
      /agentnode_container_call_duration_seconds_count\{spec="[^"]+",mode="warm",outcome="ok"\} 9/,
    );
    expect(text).toMatch(/agentnode_container_pool_containers\{spec="[^"]+",state="idle"\} 3/);
  });

  it('emits events tied by container id', async () => {
    const { sh: image } = await testImages();
    const errors: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error: (message: string) => errors.push(message),
    };
    const pool = pools.create({ logger });
    const started: string[] = [];
    const removed: { containerId: string; reason: string }[] = [];
    const scaled: string[] = [];
    pool.on('containerStarted', (event) => started.push(event.containerId));
    pool.on('containerRemoved', (event) =>
      removed.push({ containerId: event.containerId, reason: event.reason }),
    );
    pool.on('scaled', (event) =>
      scaled.push(`${event.direction}:${event.reason}:${event.containers}`),
    );
    pool.on('containerStarted', () => {
      throw new Error('listener bug');
    });
    const spec: ContainerSpec = { image, runner: 'sh', min: 1, max: 1 };

    await pool.warm(spec);
    await expect(pool.run(spec, { code: 'sleep 5', timeoutMs: 300 })).rejects.toMatchObject({
      code: 'TIMEOUT',
    });
    await pool.run(spec, { code: 'true' });

    expect(started).toHaveLength(2);
    expect(removed).toEqual([{ containerId: started[0], reason: 'timeout' }]);
    expect(scaled).toEqual(['up:min:1', 'up:replace:1']);
    expect(
      errors.filter((message) => message.includes('"containerStarted" listener threw')),
    ).toHaveLength(2);
  });

  it('pre-starts containers when misses cross the threshold', async () => {
    const { sh: image } = await testImages();
    const metrics = createMetricsRegistry({ collectSystem: false });
    const messages: string[] = [];
    const logger = {
      debug() {},
      info: (message: string) => messages.push(message),
      warn() {},
      error() {},
    };
    const pool = pools.create({ metrics, logger, scaleThreshold: 2, scaleIncrement: 2 });
    const spec: ContainerSpec = { image, runner: 'sh', min: 0, max: 5 };

    await Promise.all([
      pool.run(spec, { code: 'sleep 0.2' }),
      pool.run(spec, { code: 'sleep 0.2' }),
    ]);
    await eventually(() => pool.stats().specs[0]?.starting === 0);

    expect(pool.stats().specs[0]?.idle).toBe(4);
    expect(
      messages.some((message) =>
        /starting 2 container\(s\) .*\(demand: 2 calls found no idle container/.test(message),
      ),
    ).toBe(true);
    expect(await metrics.metrics()).toMatch(
      /agentnode_container_scale_events_total\{spec="[^"]+",direction="up",reason="demand"\} 2/,
    );
  });

  it('removes idle containers above min after idleTtlMs', async () => {
    const { sh: image } = await testImages();
    const pool = pools.create();
    const spec: ContainerSpec = { image, runner: 'sh', min: 1, max: 3, idleTtlMs: 300 };
    await Promise.all([0, 1, 2].map(() => pool.run(spec, { code: 'sleep 0.3' })));
    expect(pool.stats().specs[0]?.idle).toBeGreaterThan(1);

    const shrunk = await eventually(
      () => pool.stats().specs[0]?.idle === 1 && pool.stats().specs[0]?.stopping === 0,
    );
    expect(shrunk).toBe(true);
    expect(await listContainers([`agentnode.pool=${pool.name}`])).toHaveLength(1);
  });

  it('removes idle containers although liveness pings them', async () => {
    const { sh: image } = await testImages();
    const pool = pools.create({ livenessIntervalMs: 200 });
    const spec: ContainerSpec = { image, runner: 'sh', min: 0, max: 3, idleTtlMs: 800 };
    await Promise.all([0, 1, 2].map(() => pool.run(spec, { code: 'sleep 0.3' })));
    expect(pool.stats().specs[0]?.idle).toBe(3);

    // Pings every 200 ms must not count as use, or the 800 ms TTL never passes.
    const emptied = await eventually(() => {
      const stats = pool.stats().specs[0];
      return stats?.idle === 0 && stats.busy === 0 && stats.stopping === 0;
    }, 6_000);
    expect(emptied).toBe(true);
    expect(await listContainers([`agentnode.pool=${pool.name}`])).toHaveLength(0);
  });

  it('replaces a container that fails its liveness ping', async () => {
    const { sh: image } = await testImages();
    const metrics = createMetricsRegistry({ collectSystem: false });
    const pool = pools.create({ metrics, livenessIntervalMs: 200, livenessTimeoutMs: 300 });
    const spec: ContainerSpec = { image, runner: 'sh', min: 1, max: 1 };
    const first = await pool.run(spec, { code: 'true' });

    await new Docker().getContainer(first.containerId).pause();
    const failed = await eventually(async () =>
      /check="liveness"\} 1/.test(await metrics.metrics()),
    );
    const next = await pool.run(spec, { code: 'echo ok', timeoutMs: 10_000 });

    expect(failed).toBe(true);
    expect(next.containerId).not.toBe(first.containerId);
  });

  it('replaces a container Docker reports unhealthy', async () => {
    const { sh: image } = await testImages();
    const metrics = createMetricsRegistry({ collectSystem: false });
    const pool = pools.create({ metrics, livenessIntervalMs: 200 });
    const spec: ContainerSpec = {
      image,
      runner: 'sh',
      min: 1,
      max: 1,
      healthcheck: {
        test: ['CMD', 'sh', '-c', 'test ! -f /tmp/broken'],
        intervalMs: 100,
        timeoutMs: 1_000,
        retries: 1,
      },
    };
    const first = await pool.run(spec, { code: 'touch /tmp/broken' });

    const replaced = await eventually(async () => {
      const next = await pool.run(spec, { code: 'true', timeoutMs: 10_000 });
      return next.containerId !== first.containerId;
    }, 20_000);

    expect(replaced).toBe(true);
    expect(await metrics.metrics()).toMatch(
      /agentnode_container_health_failures_total\{spec="[^"]+",check="docker_health"\} 1/,
    );
  });

  it('fails a call whose container is OOM-killed', async () => {
    const { node: image } = await testImages();
    const pool = pools.create();
    const spec: ContainerSpec = {
      image,
      runner: 'node',
      memoryBytes: 96 * 1024 * 1024,
      min: 1,
      max: 1,
    };
    const call = pool.run(spec, {
      code: 'const chunks = []; for (;;) chunks.push(Buffer.alloc(1 << 20, 1));',
      timeoutMs: 30_000,
    });

    await expect(call).rejects.toMatchObject({ code: 'CONTAINER_UNHEALTHY' });
    const next = await pool.run(spec, { code: "return 'alive'" });
    expect(next.output).toBe('alive');
  });

  it('replaces a container whose runner exits while idle', async () => {
    const { node: image } = await testImages();
    const metrics = createMetricsRegistry({ collectSystem: false });
    const warnings: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn: (message: string) => warnings.push(message),
      error() {},
    };
    const pool = pools.create({ metrics, logger });
    const spec: ContainerSpec = { image, runner: 'node', min: 1, max: 1 };
    const first = await pool.run(spec, { code: 'setTimeout(() => process.exit(0), 100)' });

    const replaced = await eventually(() => pool.stats().specs[0]?.idle === 1 && metricsSeen());
    async function metricsSeen() {
      return /check="exited"\} 1/.test(await metrics.metrics());
    }
    const next = await pool.run(spec, { code: 'return 1' });

    expect(replaced).toBe(true);
    expect(next.containerId).not.toBe(first.containerId);
    expect(warnings).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `container ${first.containerId.slice(0, 12)} of ".*" lost its runner; it is removed: runner exited while idle`,
        ),
      ),
    );
  });
});
