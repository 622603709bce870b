import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { dockerAvailable, eventually, listContainers, testImages, testPools } from './images';

const hasDocker = await dockerAvailable();
const pools = testPools('signals');
const here = dirname(fileURLToPath(import.meta.url));
const workspaceRoot = join(here, '..', '..', '..');

interface Host {
  readonly child: ChildProcess;
  readonly containerIds: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the fixture host and resolves once its three containers are warm. */
async function startHost(name: string, handleSignals: boolean, end = false): Promise<Host> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=source',
      '--import',
      'tsx',
      join(here, 'fixtures', 'host.ts'),
      name,
      'signal-node',
      pools.label.split('=')[1]!,
      handleSignals ? 'handle' : 'plain',
      ...(end ? ['end'] : []),
    ],
    { cwd: workspaceRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const containerIds = await new Promise<string[]>((resolve, reject) => {
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = /^ready (.*)$/m.exec(stdout);
      if (line) resolve(line[1]!.trim().split(' '));
    });
    void exited.then(({ code }) =>
      reject(new Error(`host exited with ${code} before it was ready: ${stderr}`)),
    );
  });
  return { child, containerIds, exited };
}

describe.skipIf(!hasDocker)('host process signals', () => {
  afterAll(() => pools.cleanup());

  it('SIGTERM with handleSignals removes every container', async () => {
    await testImages();
    const name = `signals-term-${process.pid}`;
    const host = await startHost(name, true);
    expect(host.containerIds).toHaveLength(3);
    expect(await listContainers([`agentnode.pool=${name}`], { running: true })).toHaveLength(3);

    host.child.kill('SIGTERM');
    const exit = await host.exited;

    expect(exit.signal).toBe('SIGTERM');
    expect(await listContainers([`agentnode.pool=${name}`])).toEqual([]);
    expect(await listContainers([`agentnode.pool=${name}-second`])).toEqual([]);
  }, 60_000);

  it('SIGTERM without handlers leaves no container running', async () => {
    await testImages();
    const name = `signals-plain-${process.pid}`;
    const host = await startHost(name, false);

    host.child.kill('SIGTERM');
    await host.exited;
    const stopped = await eventually(
      async () =>
        (await listContainers([`agentnode.pool=${name}`], { running: true })).length === 0,
    );

    expect(stopped).toBe(true);
  }, 60_000);

  it('SIGKILL leaves orphans that the next start removes', async () => {
    await testImages();
    const name = `signals-kill-${process.pid}`;
    const host = await startHost(name, true);

    host.child.kill('SIGKILL');
    await host.exited;
    const left = await listContainers([`agentnode.pool=${name}`]);
    expect(left.map((container) => container.Id).sort()).toEqual([...host.containerIds].sort());

    const next = pools.create({ name, nodeId: 'signal-node' });
    await next.start();

    expect(await listContainers([`agentnode.pool=${name}`])).toEqual([]);
  }, 60_000);

  it('exits and cleans up when a program never closes', async () => {
    await testImages();
    const name = `signals-end-${process.pid}`;
    const host = await startHost(name, false, true);
    const exit = await host.exited;

    expect(exit).toEqual({ code: 0, signal: null });
    expect(await listContainers([`agentnode.pool=${name}`])).toEqual([]);
    expect(await listContainers([`agentnode.pool=${name}-second`])).toEqual([]);
  }, 30_000);

  it('leaves containers of another node alone', async () => {
    await testImages();
    const name = `signals-other-${process.pid}`;
    const host = await startHost(name, false);
    host.child.kill('SIGKILL');
    await host.exited;

    const otherNode = pools.create({ name, nodeId: 'some-other-node' });
    await otherNode.start();

    expect(await listContainers([`agentnode.pool=${name}`])).toHaveLength(3);
  }, 60_000);
});
