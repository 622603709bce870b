export type { ContainerPoolConfig } from './config';
export {
  ContainerPool,
  type ContainerPoolStats,
  createContainerPool,
  type RunOptions,
  type RunResult,
} from './container-pool';
export type { DockerEngineConfig } from './engine';
export {
  ContainerPoolError,
  type ContainerPoolErrorCode,
  type ContainerPoolErrorDetails,
  isContainerPoolError,
} from './errors';
export {
  buildLocalImage,
  type LocalImage,
  type LocalImageConfig,
  type TarEntry,
} from './local-image';
export type { Logger } from './logger';
export type { ContainerPoolEvents, ContainerPoolListener, RemovalReason } from './pool-events';
export type { ContainerState, HealthCheckKind, ScaleReason } from './pool-metrics';
export { busyboxRootfs, nodeRootfs, type Rootfs } from './rootfs';
export { NODE_RUNNER_SOURCE } from './runners/node-runner';
export { SH_RUNNER_SOURCE } from './runners/sh-runner';
export {
  type ContainerHealthcheck,
  type ContainerMount,
  type ContainerSpec,
  LABELS,
  type RunnerSpec,
} from './spec';
export type { SpecPoolStats } from './spec-pool';
