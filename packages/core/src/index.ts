export type {
  CallFinishedEvent,
  CallRetryingEvent,
  CallStartedEvent,
  CoordinatorEvents,
  DependencyOutputs,
  ExecuteManyOptions,
  ExecuteOptions,
  ToolCallFailure,
  ToolCallRequest,
  ToolCallResult,
  ToolCallSuccess,
} from './call-types';
export {
  DEFAULT_CONCURRENCY,
  DEFAULT_TIMEOUT_MS,
  type ToolCoordinatorConfig,
} from './coordinator-config';
export { QUEUE_WAIT_BUCKETS, TOOL_DURATION_BUCKETS } from './core-metrics';
export {
  describeError,
  isToolError,
  ToolError,
  type ToolErrorCode,
  type ToolErrorOptions,
} from './errors';
export { type Logger, silentLogger, stderrErrorLogger } from './logger';
export type { ParameterValidator } from './parameter-validator';
export type {
  AttestationDecision,
  AttestationGate,
  AttestationRequest,
  CallStatus,
  ExecutionLog,
  ExecutionRecord,
  ToolExecutor,
  ToolInvocation,
} from './ports';
export {
  comparePrivacyTiers,
  isPrivacyTier,
  PRIVACY_TIERS,
  type PrivacyTier,
  requiresAttestation,
} from './privacy-tier';
export {
  computeRetryDelayMs,
  MAX_RETRY_ATTEMPTS,
  NO_RETRY,
  type ResolvedRetryPolicy,
  type RetryPolicy,
} from './retry-policy';
export {
  formatRouterKey,
  MAX_ROUTER_KEY_LENGTH,
  normalizeRouterKey,
  parseRouterKey,
  ROUTER_KEY_SEPARATOR,
  type RouterKey,
  type RouterKeyParts,
  routerKeyWithoutVersion,
  sanitizeRouterKeyPart,
} from './router-key';
export {
  type SpawnOptions,
  type TaskOutcome,
  TaskSupervisor,
  type TaskSupervisorConfig,
} from './task-supervisor';
export {
  type ConfigValues,
  type ResolvedToolConfig,
  ToolConfigStore,
  type ToolConfigStoreConfig,
} from './tool-config-store';
export { ToolCoordinator } from './tool-coordinator';
export type {
  ConfigField,
  JsonSchema,
  RegisteredTool,
  ToolCallContext,
  ToolDefinition,
  ToolHandler,
  ToolParams,
} from './tool-definition';
export {
  MAX_TIMEOUT_MS,
  type RegisterToolOptions,
  ToolRegistry,
  type ToolRegistryConfig,
  type ToolRegistryEntry,
} from './tool-registry';
