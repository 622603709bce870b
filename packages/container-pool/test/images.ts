import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import {
  buildLocalImage,
  busyboxRootfs,
  type ContainerPool,
  type ContainerPoolConfig,
  createContainerPool,
  nodeRootfs,
} from '../src/index';

/** Label on every container a test creates, so cleanup never touches anyone else's. */
export const TEST_LABEL = 'agentnode-test';

const CACHE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '.cache');
const LOCK_DIR = join(CACHE_DIR, 'images.lock');
const STALE_LOCK_MS = 120_000;

/** Test images: `sh` is BusyBox, `node` is this machine's Node.js binary. */
export interface TestImages {
  readonly sh: string;
  readonly node: string;
}

/**
 * Tells whether a Docker engine responds. Without one the suite skips, unless
 * `AGENTNODE_REQUIRE_SERVICES=1`, where a missing engine fails the run.
 */
export async function dockerAvailable(): Promise<boolean> {
  try {
    await new Docker().ping();
    return true;
  } catch (error) {
    if (process.env.AGENTNODE_REQUIRE_SERVICES === '1') {
      throw new Error(
        `AGENTNODE_REQUIRE_SERVICES=1 but no Docker engine responds: ${(error as Error).message}`,
      );
    }
    console.warn(
      `Skipping container-pool tests: no Docker engine responds (${(error as Error).message}).`,
    );
    return false;
  }
}

let images: Promise<TestImages> | undefined;

/**
 * Builds the test images once per content hash. Test files run in parallel processes, so a
 * lock directory under `.cache/` keeps two of them from importing the same image at once.
 */
export function testImages(): Promise<TestImages> {
  images ??= withLock(async () => {
    const [sh, node] = await Promise.all([
      buildLocalImage({ repository: 'agentnode-test/busybox', ...(await busyboxRootfs()) }),
      buildLocalImage({ repository: 'agentnode-test/node', ...(await nodeRootfs()) }),
    ]);
    return { sh: sh.image, node: node.image };
  });
  return images;
}

async function withLock<T>(work: () => Promise<T>): Promise<T> {
  await mkdir(CACHE_DIR, { recursive: true });
  for (;;) {
    try {
      await mkdir(LOCK_DIR);
      break;
    } catch {
      const age = await stat(LOCK_DIR).then(
        (info) => Date.now() - info.mtimeMs,
        () => 0,
      );
      if (age > STALE_LOCK_MS) await rm(LOCK_DIR, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    return await work();
  } finally {
    await rm(LOCK_DIR, { recursive: true, force: true });
  }
}

/** Removes every container carrying `labels` (and only those). */
export async function removeContainers(labels: readonly string[]): Promise<void> {
  const docker = new Docker();
  const containers = await docker.listContainers({ all: true, filters: { label: [...labels] } });
  await Promise.all(
    containers.map((container) =>
      docker
        .getContainer(container.Id)
        .remove({ force: true })
        .catch(() => {}),
    ),
  );
}

/** Lists containers carrying `labels`, running or not. */
export async function listContainers(
  labels: readonly string[],
  options: { running?: boolean } = {},
) {
  return new Docker().listContainers({ all: !options.running, filters: { label: [...labels] } });
}

/**
 * Creates pools for one test file: each gets a unique name and the file's test label, and
 * `cleanup()` closes them and removes any container left with that label.
 */
export function testPools(file: string) {
  const pools: ContainerPool[] = [];
  const label = `${TEST_LABEL}=${file}-${process.pid}`;
  let counter = 0;
  return {
    label,
    create(config: ContainerPoolConfig = {}): ContainerPool {
      counter += 1;
      const pool = createContainerPool({
        name: `${file}-${process.pid}-${counter}`,
        labels: { [TEST_LABEL]: `${file}-${process.pid}` },
        livenessIntervalMs: 60_000,
        ...config,
      });
      pools.push(pool);
      return pool;
    },
    async cleanup(): Promise<void> {
      await Promise.all(pools.map((pool) => pool.close()));
      await removeContainers([label]);
    },
  };
}

/** Polls `check` every 50 ms until it returns true or `limitMs` passes; returns the last value. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  limitMs = 15_000,
): Promise<boolean> {
  const end = Date.now() + limitMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
