import { describe, expect, it } from 'vitest';
import { type ContainerPoolConfig, createContainerPool, isContainerPoolError } from '../src/index';

describe('createContainerPool', () => {
  it.each<[string, ContainerPoolConfig, RegExp]>([
    ['max below 1', { max: 0 }, /Invalid max: 0/],
    ['min above max', { min: 5, max: 2 }, /Invalid min: 5; it must not exceed max \(2\)/],
    ['a fractional timeout', { timeoutMs: 1.5 }, /Invalid timeoutMs: 1.5/],
    ['an empty engine list', { engines: [] }, /Invalid engines/],
    [
      'duplicate engine names',
      { engines: [{ name: 'a' }, { name: 'a' }] },
      /engine names must be unique/,
    ],
    ['a reserved label', { labels: { 'agentnode.pool': 'x' } }, /reserved "agentnode\." prefix/],
    ['a name with spaces', { name: 'my pool' }, /Invalid name: "my pool"/],
    [
      'a non-boolean signal flag',
      { handleSignals: 'yes' as unknown as boolean },
      /Invalid handleSignals/,
    ],
  ])('rejects %s', (_, config, message) => {
    let caught: unknown;
    try {
      createContainerPool(config);
    } catch (error) {
      caught = error;
    }

    expect(isContainerPoolError(caught, 'INVALID_CONFIG')).toBe(true);
    expect((caught as Error).message).toMatch(message);
  });

  it('touches no engine until first use', async () => {
    const pool = createContainerPool({
      engines: [{ connection: { socketPath: '/nonexistent/docker.sock' } }],
    });

    expect(pool.stats()).toEqual({
      specs: [],
      engines: [{ name: 'local', up: true, containers: 0 }],
    });
    await pool.close();
  });
});

describe('ContainerPool.run validation', () => {
  const pool = createContainerPool({
    engines: [{ connection: { socketPath: '/nonexistent/docker.sock' } }],
  });

  it.each([
    ['an empty image', { image: '' }, /spec\.image/],
    ['an unknown runner', { image: 'x', runner: 'python' }, /spec\.runner/],
    ['a relative workdir', { image: 'x', workdir: 'work' }, /spec\.workdir/],
    ['zero memory', { image: 'x', memoryBytes: 0 }, /spec\.memoryBytes/],
    ['a bad env name', { image: 'x', env: { '1A': 'v' } }, /spec\.env name/],
    [
      'a relative mount target',
      { image: 'x', mounts: [{ source: '/data', target: 'data' }] },
      /spec\.mounts\[\]\.target/,
    ],
    ['an empty healthcheck', { image: 'x', healthcheck: { test: [] } }, /spec\.healthcheck\.test/],
  ])('rejects a spec with %s', async (_, spec, message) => {
    const call = pool.run(spec as never, { code: 'true' });

    await expect(call).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(call).rejects.toThrow(message);
  });

  it('rejects input above maxInputBytes', async () => {
    const small = createContainerPool({ maxInputBytes: 10 });

    await expect(
      small.run({ image: 'x' }, { code: 'cat', input: 'more than ten bytes' }),
    ).rejects.toThrow(/maxInputBytes/);
  });
});
