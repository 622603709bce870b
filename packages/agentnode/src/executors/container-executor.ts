import type { ContainerPool, ContainerSpec, RunResult } from '@agentnode/container-pool';
import {
  type ToolDefinition,
  ToolError,
  type ToolExecutor,
  type ToolInvocation,
  type ToolParams,
} from '@agentnode/core';

/**
 * The `spec` of a `container` tool: what runs, where, and how parameters go in
 * and the result comes out.
 *
 * @example
 * import type { ContainerToolSpec } from 'agentnode';
 * const spec: ContainerToolSpec = {
 *   container: { image: 'busybox:1.36', runner: 'sh', min: 1 },
 *   code: 'wc -c',
 *   input: (params) => String(params.text),
 *   output: 'text',
 * };
 */
export interface ContainerToolSpec {
  /** Image, runner, limits and sandbox of the containers. */
  container: ContainerSpec;
  /** The script (`sh` runner) or function body (`node` runner), fixed or built from the parameters. */
  code: string | ((params: ToolParams) => string);
  /**
   * Stdin of the code (the `input` variable for the `node` runner).
   * @default the parameters as JSON
   */
  input?: (params: ToolParams) => string | Uint8Array;
  /**
   * Conversion of stdout into the call's value: `text` (trimmed of one final
   * newline), `json` (parsed) or `result` (the whole `RunResult`).
   * @default 'text'
   */
  output?: 'text' | 'json' | 'result';
  /** `one-shot` runs each call in a fresh container. @default 'warm' */
  mode?: 'warm' | 'one-shot';
  /** Stdout bytes a call may write. @default the pool's maxOutputBytes */
  maxOutputBytes?: number;
}

const OUTPUT_MODES = new Set(['text', 'json', 'result']);
const STDERR_TAIL_CHARS = 500;

/**
 * Runs `container` tools on a container pool. A non-zero exit code fails the
 * call with `EXECUTION_FAILED` naming the code and the end of stderr.
 * Without a pool (no Docker engine responded at start) every call fails
 * with `EXECUTION_FAILED` saying so.
 */
export function createContainerExecutor(
  getPool: () => ContainerPool | undefined,
  unavailableReason: string,
): ToolExecutor {
  return {
    kind: 'container',
    validateTool(tool: ToolDefinition) {
      validateSpec(tool.spec);
    },
    async run(call: ToolInvocation) {
      const { signal } = call;
      const pool = getPool();
      if (pool === undefined) {
        throw new ToolError(
          'EXECUTION_FAILED',
          `Container tool "${call.key}" cannot run: ${unavailableReason}`,
          {
            key: call.key,
            callId: call.callId,
          },
        );
      }

      const spec = call.tool.spec as ContainerToolSpec;
      const code = typeof spec.code === 'function' ? spec.code(call.params) : spec.code;
      const input = spec.input ? spec.input(call.params) : JSON.stringify(call.params);
      const result = await pool.run(spec.container, {
        code,
        input,
        signal,
        ...(spec.mode !== undefined && { mode: spec.mode }),
        ...(spec.maxOutputBytes !== undefined && { maxOutputBytes: spec.maxOutputBytes }),
      });

      return toValue(result, spec, call);
    },
  };
}

function toValue(result: RunResult, spec: ContainerToolSpec, call: ToolInvocation): unknown {
  if (result.exitCode !== 0) {
    const stderr = result.stderr.trim().slice(-STDERR_TAIL_CHARS);
    throw new ToolError(
      'EXECUTION_FAILED',
      `Container tool "${call.key}" exited with code ${result.exitCode}${stderr ? `: ${stderr}` : ' and no stderr'}.`,
      { key: call.key, callId: call.callId, cause: result },
    );
  }

  const mode = spec.output ?? 'text';
  if (mode === 'result') {
    return result;
  }
  if (mode === 'text') {
    return result.output.endsWith('\n') ? result.output.slice(0, -1) : result.output;
  }

  try {
    return JSON.parse(result.output) as unknown;
  } catch (error) {
    throw new ToolError(
      'EXECUTION_FAILED',
      `Container tool "${call.key}" was declared with output 'json' but wrote invalid JSON: ${(error as Error).message}.`,
      { key: call.key, callId: call.callId, cause: error },
    );
  }
}

function validateSpec(spec: unknown): asserts spec is ContainerToolSpec {
  if (typeof spec !== 'object' || spec === null) {
    throw new TypeError('a container tool needs "spec" with at least { container, code }');
  }
  const candidate = spec as Partial<ContainerToolSpec>;
  if (
    typeof candidate.container !== 'object' ||
    candidate.container === null ||
    typeof candidate.container.image !== 'string'
  ) {
    throw new TypeError('"spec.container" must be a ContainerSpec with an "image"');
  }
  if (typeof candidate.code !== 'string' && typeof candidate.code !== 'function') {
    throw new TypeError('"spec.code" must be a string or a function of the parameters');
  }
  if (candidate.input !== undefined && typeof candidate.input !== 'function') {
    throw new TypeError('"spec.input" must be a function of the parameters');
  }
  if (candidate.output !== undefined && !OUTPUT_MODES.has(candidate.output)) {
    throw new TypeError(
      `"spec.output" must be 'text', 'json' or 'result', got ${JSON.stringify(candidate.output)}`,
    );
  }
  if (candidate.mode !== undefined && candidate.mode !== 'warm' && candidate.mode !== 'one-shot') {
    throw new TypeError(
      `"spec.mode" must be 'warm' or 'one-shot', got ${JSON.stringify(candidate.mode)}`,
    );
  }
}
