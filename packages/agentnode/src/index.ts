export {
  type CallFinishedEvent,
  type CallStartedEvent,
  type ExecuteManyOptions,
  type ExecuteOptions,
  isToolError,
  type Logger,
  type PrivacyTier,
  type ToolCallRequest,
  type ToolCallResult,
  type ToolDefinition,
  ToolError,
  type ToolErrorCode,
  type ToolExecutor,
  type ToolHandler,
  type ToolParams,
} from '@agentnode/core';
export {
  createMetricsRegistry,
  type MetricsRegistry,
  type MetricsServer,
  type MetricsServerConfig,
} from '@agentnode/metrics';
export { AgentNode } from './agent-node';
export {
  type AttestationGateConfig,
  type AttestationLookup,
  createAttestationGate,
  DEFAULT_TIER_REQUIREMENTS,
  type EvidenceSource,
  type TierRequirements,
} from './attestation-gate';
export { createNode } from './create-node';
export { isNodeError, NodeError, type NodeErrorCode } from './errors';
export { type ContainerToolSpec, createContainerExecutor } from './executors/container-executor';
export { createFunctionExecutor } from './executors/function-executor';
export { createWasmExecutor, type WasmToolSpec } from './executors/wasm-executor';
export type { NodeAttestationConfig, NodeConfig } from './node-config';
export * from './store';
