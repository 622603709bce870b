import { readFileSync } from 'node:fs';
import {
  AttestationCache,
  type AttestationResult,
  createNitroVerifier,
  type Verifier,
} from '@agentnode/attestation-cache';
import type { AttestationDecision, AttestationRequest } from '@agentnode/core';
import { createMetricsRegistry } from '@agentnode/metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { createAttestationGate, type EvidenceSource } from '../src/attestation-gate';
import { type AgentNode, createNode, isNodeError, isToolError } from '../src/index';

// An attestation document recorded from a debug-mode AWS Nitro enclave.
const NITRO_DOCUMENT = Buffer.from(
  readFileSync(
    new URL('../../attestation-cache/test/fixtures/nitro-valid-2024-08.b64', import.meta.url),
    'utf8',
  ).trim(),
  'base64',
);
const DOCUMENT_TIME = Date.parse('2024-09-09T19:49:12.400Z');

const caches: AttestationCache[] = [];
const nodes: AgentNode[] = [];

afterEach(async () => {
  await Promise.all([...nodes.splice(0), ...caches.splice(0)].map((closable) => closable.close()));
});

/** Creates a cache on the recorded document's clock, with the Nitro policy given. */
function nitroCache(allowDebug: boolean, extra: Verifier[] = []) {
  const clock = () => DOCUMENT_TIME;
  const nitro = createNitroVerifier({ allowDebug, clock });
  let calls = 0;
  const counted: Verifier = {
    tee: 'nitro',
    verify: (evidence, options) => {
      calls += 1;
      return nitro.verify(evidence, options);
    },
  };
  const cache = new AttestationCache({ verifiers: [counted, ...extra], clock });
  caches.push(cache);

  return { cache, calls: () => calls };
}

function stubVerifier(tee: string, outcome: 'valid' | Error): Verifier {
  return {
    tee,
    verify: async (): Promise<AttestationResult> => {
      if (outcome instanceof Error) {
        throw outcome;
      }
      return {
        tee,
        verifiedAt: Date.now(),
        expiresAt: Date.now() + 60_000,
        measurements: {},
        claims: {},
      };
    },
  };
}

function gateRequest(tier: AttestationRequest['tier']): AttestationRequest {
  return {
    tier,
    key: 'local:::test:::secret',
    callId: 'call-1',
    agentId: undefined,
    signal: new AbortController().signal,
  };
}

/** Returns the refusal reason of a decision, or undefined when it allowed the call. */
function reasonOf(decision: AttestationDecision): string | undefined {
  return decision.allowed ? undefined : decision.reason;
}

const nitroEvidence: EvidenceSource = () => [{ tee: 'nitro', evidence: NITRO_DOCUMENT }];

describe('createAttestationGate', () => {
  it('allows cpu_tee with a verified Nitro attestation', async () => {
    const { cache } = nitroCache(true);
    const gate = createAttestationGate({ cache, evidence: nitroEvidence });

    expect(await gate.check(gateRequest('cpu_tee'))).toEqual({ allowed: true });
  });

  it('refuses when no evidence is available', async () => {
    const { cache } = nitroCache(true);
    const gate = createAttestationGate({ cache, evidence: () => [] });

    const decision = await gate.check(gateRequest('cpu_tee'));

    expect(decision.allowed).toBe(false);
    expect(reasonOf(decision)).toContain('no attestation evidence is available');
  });

  it('refuses an attestation the verifier rejects, with the reason', async () => {
    const { cache } = nitroCache(false);
    const gate = createAttestationGate({ cache, evidence: nitroEvidence });

    const decision = await gate.check(gateRequest('cpu_tee'));

    expect(decision.allowed).toBe(false);
    expect(reasonOf(decision)).toContain('DEBUG_ENCLAVE');
  });

  it('refuses when the verifier fails', async () => {
    const cache = new AttestationCache({
      verifiers: [stubVerifier('tdx', new Error('PCS unreachable'))],
    });
    caches.push(cache);
    const gate = createAttestationGate({
      cache,
      evidence: () => [{ tee: 'tdx', evidence: Uint8Array.of(1) }],
    });

    const decision = await gate.check(gateRequest('cpu_tee'));

    expect(decision.allowed).toBe(false);
    expect(reasonOf(decision)).toContain('VERIFIER_ERROR');
    expect(reasonOf(decision)).toContain('PCS unreachable');
  });

  it('refuses when the evidence source throws', async () => {
    const { cache } = nitroCache(true);
    const gate = createAttestationGate({
      cache,
      evidence: () => {
        throw new Error('NSM device not found');
      },
    });

    const decision = await gate.check(gateRequest('cpu_tee'));

    expect(reasonOf(decision)).toBe('the evidence source failed: NSM device not found');
  });

  it('refuses evidence of an unregistered TEE type', async () => {
    const { cache } = nitroCache(true);
    const gate = createAttestationGate({
      cache,
      evidence: () => [{ tee: 'sev-snp', evidence: Uint8Array.of(1) }],
    });

    const decision = await gate.check(gateRequest('cpu_tee'));

    expect(reasonOf(decision)).toContain('UNKNOWN_TEE');
  });

  it('refuses gpu_cc with only a CPU attestation', async () => {
    const { cache } = nitroCache(true);
    const gate = createAttestationGate({ cache, evidence: nitroEvidence });

    const decision = await gate.check(gateRequest('gpu_cc'));

    expect(decision.allowed).toBe(false);
    expect(reasonOf(decision)).toContain('gpu-cc');
  });

  it('allows gpu_cc with verified CPU and GPU attestations', async () => {
    const cache = new AttestationCache({
      verifiers: [stubVerifier('tdx', 'valid'), stubVerifier('gpu-cc', 'valid')],
    });
    caches.push(cache);
    const gate = createAttestationGate({
      cache,
      evidence: () => [
        { tee: 'tdx', evidence: Uint8Array.of(1) },
        { tee: 'gpu-cc', evidence: Uint8Array.of(2) },
      ],
    });

    expect(await gate.check(gateRequest('gpu_cc'))).toEqual({ allowed: true });
  });

  it('refuses gpu_cc when the GPU attestation is rejected', async () => {
    const cache = new AttestationCache({
      verifiers: [
        stubVerifier('tdx', 'valid'),
        stubVerifier('gpu-cc', new Error('GPU in dev mode')),
      ],
    });
    caches.push(cache);
    const gate = createAttestationGate({
      cache,
      evidence: () => [
        { tee: 'tdx', evidence: Uint8Array.of(1) },
        { tee: 'gpu-cc', evidence: Uint8Array.of(2) },
      ],
    });

    const decision = await gate.check(gateRequest('gpu_cc'));

    expect(reasonOf(decision)).toContain('the gpu-cc attestation was rejected');
  });

  it('verifies once for concurrent checks', async () => {
    const { cache, calls } = nitroCache(true);
    const gate = createAttestationGate({ cache, evidence: nitroEvidence });

    const decisions = await Promise.all(
      Array.from({ length: 20 }, () => gate.check(gateRequest('cpu_tee'))),
    );

    expect(decisions.every((decision) => decision.allowed)).toBe(true);
    expect(calls()).toBe(1);
  });

  it('refuses when the call is aborted', async () => {
    const { cache } = nitroCache(true);
    const gate = createAttestationGate({ cache, evidence: nitroEvidence });
    const controller = new AbortController();
    controller.abort();

    const decision = await gate.check({ ...gateRequest('cpu_tee'), signal: controller.signal });

    expect(reasonOf(decision)).toContain('ABORTED');
  });

  it('allows tiers below cpu_tee without reading evidence', async () => {
    const { cache } = nitroCache(true);
    let reads = 0;
    const gate = createAttestationGate({
      cache,
      evidence: () => {
        reads += 1;
        return [];
      },
    });

    expect(await gate.check(gateRequest('open'))).toEqual({ allowed: true });
    expect(await gate.check(gateRequest('at_rest'))).toEqual({ allowed: true });
    expect(reads).toBe(0);
  });

  it('applies custom requirements', async () => {
    const { cache } = nitroCache(true);
    const gate = createAttestationGate({
      cache,
      evidence: nitroEvidence,
      requirements: { cpu_tee: [['tdx']] },
    });

    const decision = await gate.check(gateRequest('cpu_tee'));

    expect(reasonOf(decision)).toContain('an attestation from tdx is required');
  });

  it('counts decisions by tier', async () => {
    const metrics = createMetricsRegistry({ collectSystem: false });
    const { cache } = nitroCache(true);
    const gate = createAttestationGate({ cache, evidence: nitroEvidence, metrics });

    await gate.check(gateRequest('cpu_tee'));
    await gate.check(gateRequest('gpu_cc'));

    const text = await metrics.metrics();
    expect(text).toContain(
      'agentnode_attestation_gate_decisions_total{tier="cpu_tee",decision="allowed"} 1',
    );
    expect(text).toContain(
      'agentnode_attestation_gate_decisions_total{tier="gpu_cc",decision="refused"} 1',
    );
  });

  const lookup = { get: async () => ({}) as AttestationResult };

  it.each<[string, unknown]>([
    ['no cache', { evidence: nitroEvidence }],
    ['no evidence source', { cache: lookup }],
    [
      'requirements for the open tier',
      { cache: lookup, evidence: nitroEvidence, requirements: { open: [['nitro']] } },
    ],
    [
      'an empty requirement group',
      { cache: lookup, evidence: nitroEvidence, requirements: { cpu_tee: [[]] } },
    ],
    [
      'a requirement that is not a TEE type name',
      { cache: lookup, evidence: nitroEvidence, requirements: { cpu_tee: [['Nitro Enclaves']] } },
    ],
    ['a misspelled option', { cache: lookup, evidence: nitroEvidence, requirement: {} }],
  ])('rejects a config with %s', (_name, config) => {
    let caught: unknown;
    try {
      createAttestationGate(config as never);
    } catch (error) {
      caught = error;
    }

    expect(isNodeError(caught, 'INVALID_CONFIG')).toBe(true);
  });
});

describe('createAttestationGate messages', () => {
  it('names an unknown option and lists the known ones', () => {
    const lookup = { get: async () => ({}) as AttestationResult };

    expect(() =>
      createAttestationGate({ cache: lookup, evidence: nitroEvidence, metric: 1 } as never),
    ).toThrow(
      'Unknown createAttestationGate() option "metric"; known options are cache, evidence, requirements, metrics.',
    );
  });

  it('reports an evidence source that returns no array', async () => {
    const { cache } = nitroCache(true);
    const gate = createAttestationGate({
      cache,
      evidence: (() => ({ tee: 'nitro', evidence: NITRO_DOCUMENT })) as never,
    });

    const decision = await gate.check(gateRequest('cpu_tee'));

    expect(reasonOf(decision)).toBe(
      'the evidence source returned an object, expected an array of { tee, evidence } items',
    );
  });

  it('ends a rejection reason without a doubled period', async () => {
    const { cache } = nitroCache(false);
    const gate = createAttestationGate({ cache, evidence: nitroEvidence });

    const reason = reasonOf(await gate.check(gateRequest('cpu_tee')));

    expect(reason).toMatch(/^the nitro attestation was rejected \(DEBUG_ENCLAVE: Enclave /);
    expect(reason).toMatch(/set allowDebug to accept it\)$/);
  });
});

describe('createNode with the attestation gate', () => {
  async function nodeWith(allowDebug: boolean) {
    const nitro = nitroCache(allowDebug);
    const node = await createNode({
      metrics: { collectSystem: false },
      attestationGate: createAttestationGate({ cache: nitro.cache, evidence: nitroEvidence }),
    });
    nodes.push(node);
    node.tools.register({
      key: 'local:::test:::secret',
      kind: 'function',
      privacyTier: 'cpu_tee',
      handler: () => 'ran inside the TEE',
    });

    return { node, calls: nitro.calls };
  }

  it('runs a cpu_tee tool once the attestation verifies, verifying once', async () => {
    const { node, calls } = await nodeWith(true);

    const first = await node.execute('local:::test:::secret', {});
    const second = await node.execute('local:::test:::secret', {});

    expect(first.ok ? first.value : undefined).toBe('ran inside the TEE');
    expect(second.ok).toBe(true);
    expect(calls()).toBe(1);
  });

  it('fails a cpu_tee tool with ATTESTATION_REQUIRED when the attestation is rejected', async () => {
    const { node } = await nodeWith(false);

    const result = await node.execute('local:::test:::secret', {});

    expect(result.ok).toBe(false);
    const error = !result.ok ? result.error : undefined;
    expect(isToolError(error, 'ATTESTATION_REQUIRED')).toBe(true);
    expect(error?.message).toContain('DEBUG_ENCLAVE');
    expect(error?.message).not.toContain('.).');
  });
});
