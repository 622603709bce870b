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
    [
      'a reserved label',
      { labels: { 'agentnode.pool': 'x' } },
      /names starting with "agentnode\." are reserved/,
    ],
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
      /spec\.mounts\[0\]\.target/,
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

describe('input validation', () => {
  const pool = createContainerPool({
    engines: [{ connection: { socketPath: '/nonexistent/docker.sock' } }],
  });

  function configError(create: () => unknown): Error {
    try {
      create();
    } catch (error) {
      expect(isContainerPoolError(error, 'INVALID_CONFIG')).toBe(true);
      return error as Error;
    }
    throw new Error('expected INVALID_CONFIG');
  }

  it('rejects a null config', () => {
    const error = configError(() => createContainerPool(null as never));

    expect(error.message).toMatch(/^Invalid config: null; pass an object with name, nodeId/);
  });

  it.each<[string, unknown, RegExp]>([
    [
      'a misspelt option',
      { maxx: 3 },
      /unknown option "maxx" \(did you mean "max"\?\); known options are name, /,
    ],
    [
      'a connection option outside connection',
      { engines: [{ socketPath: '/x' }] },
      /Invalid engines\[0\]: unknown option "socketPath" \(dockerode options go inside "connection"\)/,
    ],
    [
      'a logger without methods',
      { logger: {} },
      /Invalid logger: \{\}; .*missing: debug, info, warn, error/,
    ],
    [
      'a logger missing one method',
      { logger: { debug() {}, info() {}, warn() {} } },
      /missing: error\)/,
    ],
    [
      'a string number',
      { timeoutMs: '100' },
      /Invalid timeoutMs: "100" \(a string\); use a whole number/,
    ],
    ['an array number', { max: [1] }, /Invalid max: \[1\] \(an array\); use a whole number/],
    [
      'a string engine cap',
      { engines: [{ maxContainers: '100' }] },
      /engines\[0\]\.maxContainers: "100" \(a string\)/,
    ],
  ])('rejects %s in the pool config', (_, config, message) => {
    expect(configError(() => createContainerPool(config as never)).message).toMatch(message);
  });

  it('accepts console as the logger', () => {
    expect(() => createContainerPool({ logger: console })).not.toThrow();
  });

  it.each<[string, unknown, RegExp]>([
    [
      'cpu for cpus',
      { image: 'x', cpu: 2 },
      /Invalid spec: unknown option "cpu" \(did you mean "cpus"\?\); known options are image, /,
    ],
    [
      'a misspelt mount field',
      { image: 'x', mounts: [{ source: '/a', target: '/b', readonly: true }] },
      /Invalid spec\.mounts\[0\]: unknown option "readonly" \(did you mean "readOnly"\?\)/,
    ],
    [
      'a misspelt health check field',
      { image: 'x', healthcheck: { test: ['CMD', 'true'], interval: 5 } },
      /spec\.healthcheck: unknown option "interval"/,
    ],
    [
      'an unknown runner field',
      { image: 'x', runner: { cmd: ['python3'] } },
      /spec\.runner: unknown option "cmd"/,
    ],
    ['a numeric name', { image: 'x', name: 7 }, /Invalid spec\.name: 7 \(a number\)/],
    [
      'a string flag',
      { image: 'x', readOnlyRootfs: 'no' },
      /Invalid spec\.readOnlyRootfs: "no" \(a string\); use true or false/,
    ],
  ])('rejects a spec with %s', async (_, spec, message) => {
    const call = pool.run(spec as never, { code: 'true' });

    await expect(call).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(call).rejects.toThrow(message);
  });

  it.each<[string, unknown, RegExp]>([
    [
      'a misspelt option',
      { code: 'true', timeout: 5 },
      /Invalid options: unknown option "timeout" \(did you mean "timeoutMs"\?\)/,
    ],
    [
      'a signal that is no AbortSignal',
      { code: 'true', signal: {} },
      /Invalid options\.signal: \{\}; pass an AbortSignal/,
    ],
    ['null options', null, /Invalid options: null/],
  ])('rejects run options with %s', async (_, options, message) => {
    const call = pool.run({ image: 'x' }, options as never);

    await expect(call).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(call).rejects.toThrow(message);
  });
});
