import { describe, expect, it } from 'vitest';
import { type CallFinishedEvent, ToolCoordinator } from '../src/index';

describe('callFinished kind', () => {
  it('names the tool kind of a dependency failure', async () => {
    const coordinator = new ToolCoordinator({
      executors: [
        {
          kind: 'function',
          run: (call) => {
            if (call.params.fail === true) {
              throw new Error('input failed');
            }
            return 'ok';
          },
        },
      ],
    });
    coordinator.registry.register({ key: 'local:::test:::step', kind: 'function' });
    const finished: CallFinishedEvent[] = [];
    coordinator.on('callFinished', (event) => finished.push(event));

    await coordinator.executeMany([
      { id: 'first', key: 'local:::test:::step', params: { fail: true } },
      { id: 'second', key: 'local:::test:::step', dependsOn: ['first'] },
    ]);
    await coordinator.close();

    const second = finished.find((event) => event.id === 'second');
    expect(second?.error?.code).toBe('DEPENDENCY_FAILED');
    expect(second?.kind).toBe('function');
  });
});
