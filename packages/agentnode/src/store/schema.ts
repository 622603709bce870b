import type { CallStatus } from '@agentnode/core';

/** Row of `tools`: one registered tool definition, keyed by its router key. */
export interface ToolsTable {
  /** Canonical router key, `source:::author:::name[:::version]`. */
  key: string;
  /** Executor kind: `function`, `wasm`, `container`, ... */
  kind: string;
  description: string | null;
  /** The JSON-serializable part of the definition (parameters, config, limits, spec). */
  definition: string;
  /** Milliseconds since the epoch. */
  created_at: number;
  /** Milliseconds since the epoch. */
  updated_at: number;
}

/** Row of `executions`: one finished tool call. */
export interface ExecutionsTable {
  /** The call id. */
  id: string;
  router_key: string;
  kind: string;
  status: CallStatus;
  duration_ms: number;
  error_code: string | null;
  /** Milliseconds since the epoch. */
  started_at: number;
  /** Milliseconds since the epoch. */
  finished_at: number;
}

/** The node's tables, for `Kysely<StoreSchema>`. */
export interface StoreSchema {
  tools: ToolsTable;
  executions: ExecutionsTable;
}

/** One finished call as the execution log stores it. */
export interface ExecutionLogRecord {
  /** The call id; unique per call. */
  readonly id: string;
  readonly routerKey: string;
  readonly kind: string;
  readonly status: CallStatus;
  readonly durationMs: number;
  /** Set when the call failed. */
  readonly errorCode?: string | undefined;
  /** Milliseconds since the epoch. */
  readonly startedAt: number;
  /** Milliseconds since the epoch. */
  readonly finishedAt: number;
}

/** The statuses a call can end in, as stored in `executions.status`. */
export const CALL_STATUSES: readonly CallStatus[] = ['ok', 'error', 'timeout', 'aborted'];
