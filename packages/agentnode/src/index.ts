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
export { createNode, type NodeConfig } from './create-node';
export { isNodeError, NodeError, type NodeErrorCode } from './errors';
export { createFunctionExecutor } from './executors/function-executor';
