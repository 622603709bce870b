import { afterAll, describe, expect, it } from 'vitest';
import type { ContainerSpec } from '../src/index';
import { dockerAvailable, listContainers, testImages, testPools } from './images';

const hasDocker = await dockerAvailable();
const pools = testPools('one-shot');

describe.skipIf(!hasDocker)('ContainerPool.run in one-shot mode', () => {
  afterAll(() => pools.cleanup());

  it('returns 100 exit codes of 0 with auto-remove', async () => {
    const { sh: image } = await testImages();
    const pool = pools.create();
    const spec: ContainerSpec = { image, runner: 'sh' };
    const results: number[] = [];
    const errors: unknown[] = [];

    // Eight at a time: enough to race Docker's auto-remove against the pool's own requests.
    const queue = Array.from({ length: 100 }, (_, index) => index);
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (queue.shift() !== undefined) {
          await pool.run(spec, { code: 'true', mode: 'one-shot', timeoutMs: 60_000 }).then(
            (result) => results.push(result.exitCode),
            (error: unknown) => errors.push(error),
          );
        }
      }),
    );

    expect(errors).toEqual([]);
    expect(results).toEqual(Array.from({ length: 100 }, () => 0));
    expect(await listContainers([`agentnode.pool=${pool.name}`])).toEqual([]);
  }, 120_000);

  it('shares the result shape and leaves no container without auto-remove', async () => {
    const { sh: image } = await testImages();
    const pool = pools.create({ oneShotAutoRemove: false });
    const result = await pool.run(
      { image, runner: 'sh' },
      { code: 'cat; echo warn >&2; exit 4', input: 'x', mode: 'one-shot' },
    );

    expect(result).toMatchObject({ output: 'x', stderr: 'warn\n', exitCode: 4, engine: 'local' });
    expect(await listContainers([`agentnode.pool=${pool.name}`])).toEqual([]);
  });

  it('starts a pristine container for every call', async () => {
    const { node: image } = await testImages();
    const pool = pools.create();
    const spec: ContainerSpec = { image, runner: 'node' };
    const code = 'globalThis.calls = (globalThis.calls ?? 0) + 1; return String(globalThis.calls)';
    const first = await pool.run(spec, { code, mode: 'one-shot' });
    const second = await pool.run(spec, { code, mode: 'one-shot' });
    const warm = [await pool.run(spec, { code }), await pool.run(spec, { code })];

    expect([first.output, second.output]).toEqual(['1', '1']);
    expect(first.containerId).not.toBe(second.containerId);
    expect(warm.map((result) => result.output)).toEqual(['1', '2']);
  });

  it('kills a one-shot container at its deadline', async () => {
    const { sh: image } = await testImages();
    const pool = pools.create();
    const call = pool.run(
      { image, runner: 'sh' },
      { code: 'sleep 30', mode: 'one-shot', timeoutMs: 1_000 },
    );

    await expect(call).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(call).rejects.toThrow(/timed out after 1000 ms \(timeoutMs\) while running/);
    await pool.close();
    expect(await listContainers([`agentnode.pool=${pool.name}`])).toEqual([]);
  });

  it('rejects an abort during the container start', async () => {
    const { sh: image } = await testImages();
    const pool = pools.create();
    await pool.start();
    const controller = new AbortController();
    const call = pool.run(
      { image, runner: 'sh' },
      { code: 'true', mode: 'one-shot', signal: controller.signal },
    );
    // Creating, attaching and starting a container take several engine requests.
    setTimeout(() => controller.abort(), 20);

    await expect(call).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(call).rejects.toThrow(/aborted while starting a container/);
    await pool.close();
    expect(await listContainers([`agentnode.pool=${pool.name}`])).toEqual([]);
  });
});
