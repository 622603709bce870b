import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { LABELS } from '../src/index';
import { dockerAvailable, listContainers, TEST_LABEL, testImages, testPools } from './images';

const hasDocker = await dockerAvailable();
const pools = testPools('orphans');

function ownStartTime(): string {
  const stat = readFileSync('/proc/self/stat', 'latin1');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

describe.skipIf(!hasDocker)('ContainerPool orphan sweep', () => {
  afterAll(() => pools.cleanup());

  it('removes containers of a recycled process id', async () => {
    const { sh: image } = await testImages();
    const name = `orphans-${process.pid}`;
    const nodeId = 'orphan-node';
    // Both claim this test's process as their owner, which is alive; only one has its
    // start time.
    const create = (started: string) =>
      new Docker().createContainer({
        Image: image,
        Cmd: ['true'],
        Labels: {
          [TEST_LABEL]: `orphans-${process.pid}`,
          [LABELS.pool]: name,
          [LABELS.node]: nodeId,
          [LABELS.instance]: 'an-earlier-pool',
          [LABELS.ownerHost]: hostname(),
          [LABELS.ownerPid]: String(process.pid),
          [LABELS.ownerStarted]: started,
        },
      });
    const live = await create(ownStartTime());
    const recycled = await create('1');

    await pools.create({ name, nodeId }).start();
    const left = (await listContainers([`${LABELS.pool}=${name}`])).map((entry) => entry.Id);

    expect(left).toContain(live.id);
    expect(left).not.toContain(recycled.id);
  });
});
