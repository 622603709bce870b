import type {
  AttestationResult,
  TeeType,
  Verifier,
  VerifyOptions,
} from '@agentnode/attestation-cache';

/** A clock tests move by hand. */
export class ManualClock {
  now: number;

  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.now = start;
  }

  read = (): number => this.now;

  advance(ms: number): void {
    this.now += ms;
  }
}

/** Builds a frozen valid result that expires `validForMs` after `now`; `label` names it in claims. */
export function validResult(
  tee: TeeType,
  now: number,
  validForMs: number,
  label = 'v1',
): AttestationResult {
  return Object.freeze({
    tee,
    verifiedAt: now,
    expiresAt: now + validForMs,
    measurements: Object.freeze({ M0: Buffer.from(label).toString('hex') }),
    claims: Object.freeze({ label }),
  });
}

/** A verifier whose behaviour each test sets, and which records its calls. */
export class StubVerifier implements Verifier {
  readonly tee: TeeType;
  calls = 0;
  readonly evidence: Uint8Array[] = [];
  readonly signals: (AbortSignal | undefined)[] = [];
  behaviour: (evidence: Uint8Array, call: number) => Promise<AttestationResult>;

  constructor(
    tee: TeeType,
    behaviour: (evidence: Uint8Array, call: number) => Promise<AttestationResult>,
  ) {
    this.tee = tee;
    this.behaviour = behaviour;
  }

  verify(evidence: Uint8Array, options?: VerifyOptions): Promise<AttestationResult> {
    this.calls += 1;
    this.evidence.push(evidence);
    this.signals.push(options?.signal);
    return this.behaviour(evidence, this.calls);
  }
}

/** Creates a verifier that accepts everything, valid for `validForMs` on `clock`. */
export function acceptingVerifier(
  tee: TeeType,
  clock: ManualClock,
  validForMs = 3_600_000,
): StubVerifier {
  return new StubVerifier(tee, async (_evidence, call) =>
    validResult(tee, clock.now, validForMs, `v${call}`),
  );
}

export function evidenceOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Settles every promise and returns the outcomes in order. */
export function settle<T>(promises: Promise<T>[]): Promise<PromiseSettledResult<T>[]> {
  return Promise.allSettled(promises);
}
