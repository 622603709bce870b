import { describe, expect, it } from 'vitest';
import {
  type AttestationGate,
  type AttestationRequest,
  PRIVACY_TIERS,
  type PrivacyTier,
  requiresAttestation,
} from '../src/index';
import {
  createCoordinator,
  delay,
  failOnUnhandledRejections,
  failureError,
  successValue,
} from './helpers';

const KEY = 'local:::demo:::secret';

function setup(tier: PrivacyTier, gate?: AttestationGate) {
  let runs = 0;
  const { coordinator } = createCoordinator(
    [
      {
        key: KEY,
        kind: 'function',
        privacyTier: tier,
        handler: () => {
          runs++;
          return 'ran';
        },
      },
    ],
    { attestationTimeoutMs: 50, ...(gate && { attestationGate: gate }) },
  );

  return { coordinator, runs: () => runs };
}

describe('attestation gate', () => {
  failOnUnhandledRejections();

  it('asks only for cpu_tee and above', () => {
    expect(PRIVACY_TIERS.filter(requiresAttestation)).toEqual(['cpu_tee', 'gpu_cc', 'gpu_tee_io']);
  });

  it.each(['open', 'at_rest'] as const)('does not ask for tier %s', async (tier) => {
    const asked: AttestationRequest[] = [];
    const { coordinator } = setup(tier, {
      check: (request) => {
        asked.push(request);
        return { allowed: false, reason: 'no' };
      },
    });

    expect(successValue(await coordinator.execute(KEY))).toBe('ran');
    expect(asked).toEqual([]);
  });

  it('runs the tool when the gate allows it', async () => {
    const asked: AttestationRequest[] = [];
    const { coordinator } = setup('gpu_cc', {
      check: (request) => {
        asked.push(request);
        return { allowed: true };
      },
    });

    const result = await coordinator.execute(KEY, {}, { agentId: 'agent-1' });

    expect(successValue(result)).toBe('ran');
    expect(asked[0]?.tier).toBe('gpu_cc');
    expect(asked[0]?.key).toBe(KEY);
    expect(asked[0]?.callId).toBe(result.callId);
    expect(asked[0]?.agentId).toBe('agent-1');
  });

  it.each<[string, AttestationGate | undefined, string]>([
    ['no gate', undefined, 'no attestation gate is configured'],
    [
      'a refusal',
      { check: () => ({ allowed: false, reason: 'TDX quote expired' }) },
      'TDX quote expired',
    ],
    [
      'a throwing gate',
      {
        check: () => {
          throw new Error('verifier down');
        },
      },
      'verifier down',
    ],
    ['a rejecting gate', { check: async () => Promise.reject(new Error('network')) }, 'network'],
    ['a malformed answer', { check: () => ({ allowed: 'yes' }) as never }, 'no reason given'],
    ['a gate that never responds', { check: () => new Promise(() => {}) }, 'timed out after 50 ms'],
  ])('fails closed on %s', async (_case, gate, message) => {
    const { coordinator, runs } = setup('cpu_tee', gate);

    const error = failureError(await coordinator.execute(KEY, {}, { retry: { maxAttempts: 3 } }));

    expect(error.code).toBe('ATTESTATION_REQUIRED');
    expect(error.message).toContain(message);
    expect(error.message).toContain('"cpu_tee"');
    expect(runs()).toBe(0);
  });

  it('reports an abort during the check as ABORTED', async () => {
    const { coordinator } = setup('cpu_tee', {
      check: async ({ signal }) => {
        await delay(40, signal);
        return { allowed: true };
      },
    });

    const error = failureError(
      await coordinator.execute(KEY, {}, { signal: AbortSignal.timeout(5) }),
    );

    expect(error.code).toBe('ABORTED');
  });
});
