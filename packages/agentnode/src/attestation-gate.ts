import {
  type AttestationGetOptions,
  type AttestationResult,
  type AttestationRequest as EvidenceRequest,
  isTeeType,
  type TeeType,
} from '@agentnode/attestation-cache';
import {
  type AttestationDecision,
  type AttestationGate,
  type AttestationRequest,
  isPrivacyTier,
  type PrivacyTier,
  requiresAttestation,
} from '@agentnode/core';
import type { Counter, MetricsRegistry } from '@agentnode/metrics';
import { NodeError } from './errors';

/** The one method of `AttestationCache` the gate calls. */
export interface AttestationLookup {
  get(request: EvidenceRequest, options?: AttestationGetOptions): Promise<AttestationResult>;
}

/**
 * Returns this node's current attestation evidence, one item per platform (for
 * example a Nitro document, or a TDX quote plus a GPU report). An empty list
 * means none is available, and attested tools are refused. Each item may carry
 * a `key` (such as `attestationKey(tee, evidence)` computed once), which spares
 * the cache from hashing the evidence on every check.
 */
export type EvidenceSource = (
  request: AttestationRequest,
) => readonly EvidenceRequest[] | Promise<readonly EvidenceRequest[]>;

/**
 * For each privacy tier that needs attestation, the groups of TEE types it
 * requires: every group needs one verified attestation from one of its types.
 * `{ gpu_cc: [['sev-snp', 'tdx'], ['gpu-cc']] }` reads "SEV-SNP or TDX, and a
 * GPU attestation".
 */
export type TierRequirements = Readonly<
  Partial<Record<PrivacyTier, readonly (readonly TeeType[])[]>>
>;

/** Options of {@link createAttestationGate}; unknown keys are rejected with `INVALID_CONFIG`. */
export interface AttestationGateConfig {
  /** The cache that verifies evidence, usually an `AttestationCache`. */
  cache: AttestationLookup;
  /** The source of this node's evidence, called on every check. */
  evidence: EvidenceSource;
  /**
   * The TEE types each tier needs. Tiers listed replace the default for that tier.
   * @default DEFAULT_TIER_REQUIREMENTS
   */
  requirements?: TierRequirements;
  /** Registry for the decision counter. @default undefined (no metrics) */
  metrics?: MetricsRegistry;
}

const GATE_CONFIG_KEYS: readonly (keyof AttestationGateConfig)[] = [
  'cache',
  'evidence',
  'requirements',
  'metrics',
];
const CPU_TEES: readonly TeeType[] = Object.freeze(['nitro', 'sev-snp', 'tdx']);
/** CPU TEEs that can host a confidential GPU (Nitro Enclaves have no device access). */
const GPU_HOST_TEES: readonly TeeType[] = Object.freeze(['sev-snp', 'tdx']);

/**
 * Default requirements. `cpu_tee` needs a verified Nitro, SEV-SNP or TDX
 * attestation. `gpu_cc` needs a SEV-SNP or TDX attestation plus a `gpu-cc` one,
 * and `gpu_tee_io` a SEV-SNP or TDX attestation plus a `gpu-tee-io` one.
 */
export const DEFAULT_TIER_REQUIREMENTS: TierRequirements = Object.freeze({
  cpu_tee: Object.freeze([CPU_TEES]),
  gpu_cc: Object.freeze([GPU_HOST_TEES, Object.freeze(['gpu-cc'])]),
  gpu_tee_io: Object.freeze([GPU_HOST_TEES, Object.freeze(['gpu-tee-io'])]),
});

const ALLOWED: AttestationDecision = Object.freeze({ allowed: true });

/**
 * Creates the `AttestationGate` that `createNode()` consults before a tool of tier
 * `cpu_tee` or above runs. Each check reads the node's evidence and verifies it
 * through the attestation cache. It fails closed: no evidence, evidence of the
 * wrong type, a rejected attestation, a verifier error, or an evidence source that
 * throws or returns no array all refuse the call, with the reason.
 *
 * @throws {NodeError} `INVALID_CONFIG` naming the option that is wrong.
 * @example
 * import { AttestationCache, createNitroVerifier } from '@agentnode/attestation-cache';
 * import { createAttestationGate, createNode } from 'agentnode';
 * const cache = new AttestationCache({ verifiers: [createNitroVerifier()] });
 * const attestationGate = createAttestationGate({
 *   cache,
 *   evidence: async () => [{ tee: 'nitro', evidence: await readNitroDocument() }],
 * });
 * const node = await createNode({ attestationGate });
 */
export function createAttestationGate(config: AttestationGateConfig): AttestationGate {
  const { cache, evidence, requirements, decisions } = resolveConfig(config);

  return {
    async check(request: AttestationRequest): Promise<AttestationDecision> {
      const decision = await decide(request, cache, evidence, requirements);
      decisions?.inc({ tier: request.tier, decision: decision.allowed ? 'allowed' : 'refused' });
      return decision;
    },
  };
}

async function decide(
  request: AttestationRequest,
  cache: AttestationLookup,
  source: EvidenceSource,
  requirements: ReadonlyMap<PrivacyTier, readonly (readonly TeeType[])[]>,
): Promise<AttestationDecision> {
  const { tier } = request;
  if (!requiresAttestation(tier)) {
    return ALLOWED;
  }

  const groups = requirements.get(tier);
  if (groups === undefined || groups.length === 0) {
    return refused(`no attestation requirement is configured for tier "${tier}"`);
  }

  let items: readonly EvidenceRequest[];
  try {
    items = await source(request);
  } catch (error) {
    return refused(`the evidence source failed: ${messageOf(error)}`);
  }
  if (!Array.isArray(items)) {
    return refused(
      `the evidence source returned ${describeValue(items)}, expected an array of { tee, evidence } items`,
    );
  }
  if (items.length === 0) {
    return refused(
      `no attestation evidence is available; tier "${tier}" needs ${describeGroups(groups)}`,
    );
  }

  const failures = await Promise.all(
    groups.map((group) => checkGroup(group, items, cache, request.signal)),
  );
  const reasons = failures.filter((reason): reason is string => reason !== undefined);

  return reasons.length === 0 ? ALLOWED : refused(reasons.join('; '));
}

/** Returns why no evidence of `group` verified, or undefined when one did. */
async function checkGroup(
  group: readonly TeeType[],
  items: readonly EvidenceRequest[],
  cache: AttestationLookup,
  signal: AbortSignal,
): Promise<string | undefined> {
  const candidates = items.filter((item) => group.includes(item?.tee));
  if (candidates.length === 0) {
    const offered = items.map((item) => String(item?.tee)).join(', ');
    return `an attestation from ${group.join(' or ')} is required, but the evidence covers only ${offered}`;
  }

  const rejections: string[] = [];
  for (const item of candidates) {
    try {
      await cache.get(item, { signal });
      return undefined;
    } catch (error) {
      rejections.push(`the ${item.tee} attestation was rejected (${messageOf(error)})`);
    }
  }

  return rejections.join('; ');
}

function refused(reason: string): AttestationDecision {
  return { allowed: false, reason };
}

function describeGroups(groups: readonly (readonly TeeType[])[]): string {
  return groups.map((group) => `one of ${group.join(', ')}`).join(' and ');
}

/** Formats an error for a reason; core ends the reason with a period, so the error's own is dropped. */
function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const message = error.message.replace(/\.+$/, '');
    return typeof code === 'string' ? `${code}: ${message}` : message;
  }

  return String(error);
}

/** Shows a config value as JSON, or by its type when it has no JSON form. */
function formatValue(value: unknown): string {
  try {
    return JSON.stringify(value) ?? describeValue(value);
  } catch {
    return describeValue(value);
  }
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) {
    return String(value);
  }

  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

interface ResolvedGateConfig {
  readonly cache: AttestationLookup;
  readonly evidence: EvidenceSource;
  readonly requirements: ReadonlyMap<PrivacyTier, readonly (readonly TeeType[])[]>;
  readonly decisions: Counter<'tier' | 'decision'> | undefined;
}

function resolveConfig(config: AttestationGateConfig): ResolvedGateConfig {
  if (typeof config !== 'object' || config === null) {
    throw invalidConfig('The attestation gate config must be an object');
  }
  for (const key of Object.keys(config)) {
    if (!GATE_CONFIG_KEYS.includes(key as keyof AttestationGateConfig)) {
      throw invalidConfig(
        `Unknown createAttestationGate() option ${JSON.stringify(key)}; known options are ${GATE_CONFIG_KEYS.join(', ')}`,
      );
    }
  }
  if (typeof config.cache?.get !== 'function') {
    throw invalidConfig(
      'Option "cache" must have a get(request) method, such as an AttestationCache',
    );
  }
  if (typeof config.evidence !== 'function') {
    throw invalidConfig(
      'Option "evidence" must be a function that returns the node\'s attestation evidence',
    );
  }

  const requirements = new Map(
    Object.entries(DEFAULT_TIER_REQUIREMENTS) as [PrivacyTier, readonly (readonly TeeType[])[]][],
  );
  for (const [tier, groups] of Object.entries(config.requirements ?? {})) {
    if (!isPrivacyTier(tier) || !requiresAttestation(tier)) {
      throw invalidConfig(
        `Option "requirements" may only list tiers that need attestation, got "${tier}"`,
      );
    }
    const valid =
      Array.isArray(groups) &&
      groups.length > 0 &&
      groups.every((group) => Array.isArray(group) && group.length > 0 && group.every(isTeeType));
    if (!valid) {
      throw invalidConfig(
        `Option "requirements.${tier}" must be a non-empty array of non-empty arrays of TEE type names (such as [['sev-snp', 'tdx'], ['gpu-cc']]), got ${formatValue(groups)}`,
      );
    }
    requirements.set(
      tier,
      groups.map((group) => Object.freeze([...group])),
    );
  }

  const decisions = config.metrics?.counter<'tier' | 'decision'>({
    name: 'agentnode_attestation_gate_decisions_total',
    help: 'Attestation gate checks, by privacy tier and decision (allowed or refused).',
    labelNames: ['tier', 'decision'],
  });

  return { cache: config.cache, evidence: config.evidence, requirements, decisions };
}

function invalidConfig(message: string): NodeError {
  return new NodeError('INVALID_CONFIG', `${message}.`);
}
