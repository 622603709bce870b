import type { ToolDefinition, ToolExecutor, ToolInvocation } from '@agentnode/core';

/**
 * Runs `function` tools: plain (async) JavaScript functions given as the
 * definition's `handler`. The handler receives the validated parameters and
 * the call context, whose `signal` aborts on timeout or cancellation.
 */
export function createFunctionExecutor(): ToolExecutor {
  return {
    kind: 'function',
    validateTool(tool: ToolDefinition) {
      if (typeof tool.handler !== 'function') {
        throw new TypeError(
          `a function tool needs "handler" to be a function, got ${typeof tool.handler}`,
        );
      }
    },
    run(call: ToolInvocation) {
      // validateTool guarantees the handler at registration.
      return call.tool.handler!(call.params, call);
    },
  };
}
