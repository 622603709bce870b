import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerSpec } from '../src/index';
import { dockerAvailable, testImages, testPools } from './images';

const hasDocker = await dockerAvailable();
const pools = testPools('isolation');

// One container per spec, so every call below reuses the container of the call before it.
describe.skipIf(!hasDocker)('ContainerPool.run isolation between calls', () => {
  let sh: ContainerSpec;
  let node: ContainerSpec;

  beforeAll(async () => {
    const images = await testImages();
    sh = { image: images.sh, runner: 'sh', min: 1, max: 1 };
    node = { image: images.node, runner: 'node', min: 1, max: 1 };
  });
  afterAll(() => pools.cleanup());

  it('returns no earlier output to a call that kills its process group', async () => {
    const pool = pools.create();

    for (let round = 0; round < 5; round += 1) {
      const secret = await pool.run(sh, { code: `echo SECRET-${round}` });
      const killer = await pool.run(sh, { code: 'kill -9 0' });

      expect(secret.output).toBe(`SECRET-${round}\n`);
      expect(killer.containerId).toBe(secret.containerId);
      expect(killer.output).toBe('');
      expect(killer.exitCode).toBe(137);
    }
  });

  it('survives a call that removes the runner files', async () => {
    const pool = pools.create();
    const cleaner = await pool.run(sh, {
      code: 'rm -rf /tmp/.agentnode-runner; echo cleaned',
      timeoutMs: 10_000,
    });
    const next = await pool.run(sh, { code: 'echo next', timeoutMs: 10_000 });

    expect(cleaner.exitCode).toBe(0);
    expect(cleaner.output).toBe('cleaned\n');
    expect(cleaner.stderr).toMatch(/removed \/tmp\/\.agentnode-runner, so its stderr was lost/);
    expect(next.containerId).toBe(cleaner.containerId);
    expect(next.output).toBe('next\n');
  });

  it('drops output a node call writes after it returned', async () => {
    const pool = pools.create();
    const early = await pool.run(node, {
      code: "setTimeout(() => { console.log('LATE'); console.error('LATE'); }, 100); return 'early';",
    });
    const later = await pool.run(node, {
      code: "await new Promise((resolve) => setTimeout(resolve, 400)); return 'later';",
    });

    expect(early.output).toBe('early');
    expect(later.containerId).toBe(early.containerId);
    expect(later.output).toBe('later');
    expect(later.stderr).toBe('');
  });

  it('captures output of a node child with inherited stdio', async () => {
    const pool = pools.create();
    const child = "console.log('child out'); console.error('child err')";
    const result = await pool.run(node, {
      code: `console.log('before');
        require('node:child_process').execFileSync(process.execPath, ['-e', ${JSON.stringify(child)}], { stdio: 'inherit' });
        console.log('after');`,
    });
    const next = await pool.run(node, { code: "return 'next'" });

    expect(result.output).toBe('before\nchild out\nafter\n');
    expect(result.stderr).toBe('child err\n');
    expect(next.containerId).toBe(result.containerId);
    expect(next.output).toBe('next');
  });

  it('gives a node child no access to requests', async () => {
    const pool = pools.create();
    const child =
      "let text = ''; process.stdin.on('data', (chunk) => { text += chunk; }).on('end', () => console.log(JSON.stringify(text)))";
    const reader = await pool.run(node, {
      code: `const { status } = require('node:child_process').spawnSync(process.execPath, ['-e', ${JSON.stringify(child)}], { stdio: 'inherit' });
        process.stdin.on('data', () => {});
        return 'exit ' + status;`,
    });
    const next = await pool.run(node, { code: "return 'next'", input: 'call 1 2 3 4' });

    expect(reader.output).toBe('""\nexit 0');
    expect(next.containerId).toBe(reader.containerId);
    expect(next.output).toBe('next');
  });

  it('cuts node child output at the limit', async () => {
    const pool = pools.create();
    const child = "process.stdout.write('x'.repeat(100000))";
    const result = await pool
      .run(node, {
        code: `require('node:child_process').execFileSync(process.execPath, ['-e', ${JSON.stringify(child)}], { stdio: 'inherit' });`,
        maxOutputBytes: 1000,
      })
      .catch((error: unknown) => error);

    expect(result).toMatchObject({ code: 'OUTPUT_LIMIT' });
  });
});
