import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const testDirectory = dirname(fileURLToPath(import.meta.url));
const workspaceRoot = join(testDirectory, '..', '..', '..');

describe('ContainerPool process lifetime', () => {
  it('keeps a script alive while its call waits', () => {
    // The only engine is a missing socket, so the call waits until the pool gives up on
    // it. The script must not end, and close the pool, before then.
    const result = spawnSync(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        join(testDirectory, 'fixtures', 'unavailable-engine.ts'),
      ],
      { cwd: workspaceRoot, encoding: 'utf8', timeout: 30_000 },
    );

    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^ENGINE_UNAVAILABLE No Docker engine is available/);
  });
});

describe('ContainerPool without an engine', () => {
  it('logs starts for a waiting call as demand', async () => {
    const { createContainerPool } = await import('../src/index');
    const pool = createContainerPool({
      name: 'no-engine-scaling',
      engines: [{ name: 'gone', connection: { socketPath: '/nonexistent/agentnode-docker.sock' } }],
    });
    const reasons: string[] = [];
    pool.on('scaled', ({ direction, reason }) => reasons.push(`${direction}:${reason}`));

    const error = await pool
      .run({ image: 'busybox:absent', runner: 'sh', min: 0 }, { code: 'true', timeoutMs: 2_500 })
      .catch((caught: unknown) => caught);
    await pool.close();

    expect(error).toMatchObject({ code: 'ENGINE_UNAVAILABLE' });
    expect(reasons.length).toBeGreaterThan(0);
    expect(reasons.filter((reason) => reason !== 'up:demand')).toEqual([]);
  });
});
