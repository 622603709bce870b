import { describe, expectTypeOf, it } from 'vitest';
import {
  type CallFinishedEvent,
  type CallStatus,
  type RegisteredTool,
  type ToolCallRequest,
  type ToolCallResult,
  ToolCoordinator,
  type ToolDefinition,
  type ToolError,
  type ToolErrorCode,
  type ToolExecutor,
  type ToolInvocation,
} from '../src/index';

// Checked by `pnpm typecheck`; at run time these tests only assert that the
// calls compile and return.
describe('public types', () => {
  it('narrows a result by ok', () => {
    const result = { ok: false, error: {} } as ToolCallResult<number>;

    if (result.ok) {
      expectTypeOf(result.value).toEqualTypeOf<number>();
    } else {
      expectTypeOf(result.error).toEqualTypeOf<ToolError>();
      expectTypeOf(result.error).toHaveProperty('code').toEqualTypeOf<ToolErrorCode>();
    }
  });

  it('types event payloads by name', () => {
    const coordinator = new ToolCoordinator();

    coordinator.on('callFinished', (event) => {
      expectTypeOf(event).toEqualTypeOf<CallFinishedEvent>();
      expectTypeOf(event.status).toEqualTypeOf<CallStatus>();
    });
    // @ts-expect-error an unknown event name does not compile
    expectTypeOf(() => coordinator.on('callDone', () => {})).toBeFunction();
  });

  it('passes the spec type through registration', () => {
    interface ImageSpec {
      image: string;
    }
    const definition: ToolDefinition<ImageSpec> = {
      key: 'local:::demo:::box',
      kind: 'container',
      spec: { image: 'busybox' },
    };
    const register = (tool: ToolDefinition<ImageSpec>) => tool as RegisteredTool<ImageSpec>;

    expectTypeOf(register(definition).spec).toEqualTypeOf<ImageSpec | undefined>();
  });

  it('gives executors a typed invocation', () => {
    const executor: ToolExecutor = {
      kind: 'function',
      run: (call) => {
        expectTypeOf(call).toEqualTypeOf<ToolInvocation>();
        expectTypeOf(call.signal).toEqualTypeOf<AbortSignal>();
        return call.params;
      },
    };

    expectTypeOf(executor.run).parameters.toEqualTypeOf<[ToolInvocation]>();
  });

  it('rejects an async parameter builder', () => {
    const call: ToolCallRequest = {
      key: 'local:::demo:::echo',
      // @ts-expect-error a builder returns the parameters, not a Promise of them
      params: async () => ({ a: 1 }),
    };

    expectTypeOf(call.params).not.toBeUndefined();
  });

  it('types execute by its value parameter', () => {
    const coordinator = new ToolCoordinator();

    expectTypeOf(coordinator.execute<string>).returns.toEqualTypeOf<
      Promise<ToolCallResult<string>>
    >();
  });
});
